// Command frontdesk is Caddy with its standard modules and the Frontdesk suite.
// It accepts every Caddy subcommand: run, start, stop, reload, adapt, validate,
// list-modules, version, and so on.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	// The Frontdesk suite.
	_ "github.com/frontdesk-proxy/frontdesk"
)

func main() {
	caddycmd.Main()
}
