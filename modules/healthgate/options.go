package healthgate

import (
	"fmt"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
	"github.com/frontdesk-proxy/frontdesk/modules/internal/httpsyntax"
)

// The checks of the source's options that the Caddyfile and JSON share: the
// Caddyfile parser calls them to fail `adapt` at the option's line, compile
// calls them on the JSON. One rule, one place.

// Limits of the source's options.
const (
	maxCount   = 1000 // rise and fall
	maxWeight  = 100
	maxMaxBody = caddyopt.GiB
)

// checkURI accepts a health check path.
func checkURI(uri string) error {
	if !strings.HasPrefix(uri, "/") {
		return fmt.Errorf("uri: want exactly one path starting with /, got %q", uri)
	}
	return nil
}

// checkMethod accepts an HTTP method (an RFC 9110 token).
func checkMethod(m string) error {
	if !httpsyntax.IsToken(m) {
		return fmt.Errorf("method: want one HTTP method, got %q", m)
	}
	return nil
}

// checkCount accepts rise and fall: from 1 to maxCount.
func checkCount(opt string, n int) error {
	if n < 1 || n > maxCount {
		return fmt.Errorf("%s: must be a whole number from 1 to %d, got %d", opt, maxCount, n)
	}
	return nil
}

// checkWeight accepts an upstream's weight: from 1 to maxWeight.
func checkWeight(dial string, w int) error {
	if w < 1 || w > maxWeight {
		return fmt.Errorf("weight of %s must be a whole number from 1 to %d, got %d", dial, maxWeight, w)
	}
	return nil
}

// checkMaxBody accepts max_body: from 1 byte to maxMaxBody.
func checkMaxBody(n int64) error {
	if n < 1 || n > maxMaxBody {
		return fmt.Errorf("max_body: want a size from 1 byte to 1GiB, got %d", n)
	}
	return nil
}
