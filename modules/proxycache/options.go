package proxycache

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The checks of the options that both the Caddyfile and JSON carry: the
// Caddyfile parser calls them to fail `adapt` with the file and line,
// Provision calls them to compile the JSON. One rule, one place.

// validAnyCode is the key of Valid that applies to every status code.
const validAnyCode = "any"

// staleStatuses are the use_stale http_NNN keywords.
var staleStatuses = map[string]int{"http_500": 500, "http_502": 502, "http_503": 503, "http_504": 504,
	"http_403": 403, "http_404": 404, "http_429": 429}

// The use_stale keywords other than http_NNN.
const (
	staleError    = "error"
	staleTimeout  = "timeout"
	staleUpdating = "updating"
	staleOff      = "off"
)

// ignorable are the fields ignore_headers accepts.
var ignorable = []string{"Cache-Control", "Expires", "Set-Cookie", "Vary", accelExpires}

// parseValidCode reads a key of Valid: a status code from 200 to 599, or
// "any" (returned as 0).
func parseValidCode(code string) (int, error) {
	if code == validAnyCode {
		return 0, nil
	}
	n, err := strconv.Atoi(code)
	if err != nil || n < 200 || n > 599 {
		return 0, fmt.Errorf("valid: %q is not a status code from 200 to 599 or %q", code, validAnyCode)
	}
	return n, nil
}

// cacheableMethod returns m in upper case if the methods option may name it.
func cacheableMethod(m string) (string, error) {
	switch u := strings.ToUpper(m); u {
	case http.MethodGet, http.MethodHead, http.MethodPost:
		return u, nil
	}
	return "", fmt.Errorf("methods: %q cannot be cached (GET and HEAD always are; POST may be added)", m)
}

// ignorableField returns the canonical name of a field ignore_headers may
// name, in any case.
func ignorableField(f string) (string, error) {
	for _, i := range ignorable {
		if strings.EqualFold(f, i) {
			return i, nil
		}
	}
	return "", fmt.Errorf("ignore_headers: %q cannot be ignored (want any of %s)", f, strings.Join(ignorable, ", "))
}

// parseUseStale reads the whole use_stale list; "off" must stand alone.
func parseUseStale(conds []string) (staleSet, error) {
	s := staleSet{status: map[int]bool{}}
	for _, c := range conds {
		switch c {
		case staleError:
			s.error = true
		case staleTimeout:
			s.timeout = true
		case staleUpdating:
			s.updating = true
		case staleOff:
			if len(conds) > 1 {
				return staleSet{}, fmt.Errorf("use_stale: off stands alone")
			}
		default:
			code, ok := staleStatuses[c]
			if !ok {
				return staleSet{}, fmt.Errorf("use_stale: unknown condition %q (want error, timeout, updating, http_500, http_502, http_503, http_504, http_403, http_404, http_429 or off)", c)
			}
			s.status[code] = true
		}
	}
	return s, nil
}

// checkKey refuses a key template that is set but blank.
func checkKey(key string) error {
	if key != "" && strings.TrimSpace(key) == "" {
		return fmt.Errorf("key must not be blank")
	}
	return nil
}
