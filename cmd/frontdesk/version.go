package main

import (
	"fmt"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// suitePath is the module path of the Frontdesk suite.
const suitePath = "github.com/frontdesk-proxy/frontdesk"

// versionPrefix is what `frontdesk version` prints before Caddy's own
// version: "Frontdesk <revision> (<modules>) on Caddy". Caddy appends its
// version and checksum.
func versionPrefix() string {
	return fmt.Sprintf("Frontdesk %s (%s) on Caddy", suiteRevision(), strings.Join(suiteModules(), ", "))
}

// suiteRevision is the commit the binary was built from (go build in a
// checkout), or the suite's module version when it is a dependency.
func suiteRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if bi.Main.Path != suitePath {
		for _, dep := range bi.Deps {
			if dep.Path == suitePath {
				return dep.Version
			}
		}
		return "unknown"
	}
	var rev, modified string
	var when time.Time
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		case "vcs.time":
			when, _ = time.Parse(time.RFC3339, s.Value)
		}
	}
	if rev == "" {
		return "(built without version control information)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if !when.IsZero() {
		return rev + modified + " " + when.UTC().Format("2006-01-02")
	}
	return rev + modified
}

// suiteModules are the IDs of the registered modules whose Go package is
// part of the suite.
func suiteModules() []string {
	var ids []string
	for _, id := range caddy.Modules() {
		info, err := caddy.GetModule(id)
		if err != nil {
			continue
		}
		t := reflect.TypeOf(info.New())
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if strings.HasPrefix(t.PkgPath(), suitePath+"/") {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// longDescription is the root command's help text.
func longDescription() string {
	return `Frontdesk is the classic "reverse proxy & DNS" stack -- nginx in front of an
API, dnsmasq, health checks, load balancing, proxy caching, TLS -- in one Caddy
binary and one Caddyfile. It is Caddy with its standard modules and these:

  header_policy   what backends see (Host, X-Real-IP, X-Forwarded-*), unspoofable
  dnsmasq         a DNS server that reads dnsmasq's own configuration lines
  healthgate      upstreams gated until proven healthy (HAProxy's check rise/fall)
  proxy_cache     an RFC 9111 cache with nginx's proxy_cache options
  error_page      nginx-style error pages that keep the error log line
  dashboard       frontdesk_dashboard: one live page for upstreams, DNS and cache

Every Caddy subcommand works as it does in Caddy:

  $ frontdesk run --config caddyfile/lab.Caddyfile
  $ frontdesk validate --config Caddyfile
  $ frontdesk adapt --config Caddyfile --pretty
  $ frontdesk reload --config Caddyfile
  $ frontdesk list-modules --skip-standard

'frontdesk version' names the build, its modules and the Caddy version.
Each module's README documents its Caddyfile syntax, JSON, admin API and
metrics; Caddy's own documentation is at https://caddyserver.com/docs/`
}
