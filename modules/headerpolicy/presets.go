package headerpolicy

import (
	"fmt"
	"sort"
	"strings"
)

// presetNginx is the seed lab's nginx proxy block.
const presetNginx = "nginx"

// Values of Handler.HostHeader.
const (
	hostClient   = "client"
	hostHostname = "hostname"
)

// preset is the set of defaults a named preset gives the options that are not
// set explicitly.
type preset struct {
	hostName      bool
	forwardedHost bool
	hide          []string
}

// presets are the named policies. The zero preset ("") is Caddy's own forwarding
// behaviour made unspoofable, plus X-Real-IP.
var presets = map[string]preset{
	"": {
		forwardedHost: true,
	},
	// nginx is the seed lab's server block:
	//   proxy_set_header Host              $host;
	//   proxy_set_header X-Real-IP         $remote_addr;
	//   proxy_set_header X-Forwarded-For   $proxy_add_x_forwarded_for;
	//   proxy_set_header X-Forwarded-Proto $scheme;
	// with the upstream's Server and X-Powered-By hidden from clients.
	presetNginx: {
		hostName:      true,
		forwardedHost: false,
		hide:          []string{"Server", "X-Powered-By"},
	},
}

func lookupPreset(name string) (preset, error) {
	p, ok := presets[name]
	if !ok {
		return preset{}, fmt.Errorf("unknown preset %q (known presets: %s)", name, strings.Join(presetNames(), ", "))
	}
	return p, nil
}

func presetNames() []string {
	var names []string
	for n := range presets {
		if n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
