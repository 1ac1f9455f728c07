// Command frontdesk is Caddy with its standard modules and the Frontdesk suite.
// It accepts every Caddy subcommand: run, start, stop, reload, adapt, validate,
// list-modules, version, and so on; it names itself frontdesk in their help,
// and `frontdesk version` names Frontdesk, its modules and the Caddy it is
// built on.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/caddyserver/caddy/v2"

	// Caddy's standard modules.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	// The Frontdesk suite.
	_ "github.com/frontdesk-proxy/frontdesk"
)

func main() {
	caddy.CustomBinaryName = "frontdesk"
	caddy.CustomVersion = versionPrefix()
	caddy.CustomLongDescription = longDescription()
	caddycmd.Main()
}
