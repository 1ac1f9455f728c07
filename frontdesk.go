// Package frontdesk is the root of the Frontdesk module suite. It blank-imports
// every Frontdesk module so that
//
//	xcaddy build --with github.com/frontdesk-proxy/frontdesk
//
// builds a Caddy binary with the whole suite, exactly like ./cmd/frontdesk does.
package frontdesk

import (
	// Every Frontdesk module; keep in sync with modules/.
	_ "github.com/frontdesk-proxy/frontdesk/modules/dashboard"
	_ "github.com/frontdesk-proxy/frontdesk/modules/dnsmasq"
	_ "github.com/frontdesk-proxy/frontdesk/modules/errorpage"
	_ "github.com/frontdesk-proxy/frontdesk/modules/headerpolicy"
	_ "github.com/frontdesk-proxy/frontdesk/modules/healthgate"
	_ "github.com/frontdesk-proxy/frontdesk/modules/proxycache"
)
