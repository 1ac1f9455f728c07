package dashboard

import (
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// Site is one site of the http app: a top-level route with host names.
type Site struct {
	// Server is the http server's name (srv0, ...) and Listen its
	// addresses.
	Server string   `json:"server"`
	Listen []string `json:"listen"`
	// Hosts are the names the route matches, each with how the DNS app
	// answers it.
	Hosts []SiteHost `json:"hosts"`
	// Pools are the healthgate pools its reverse_proxy handlers use;
	// Upstreams the static upstreams of the others.
	Pools     []string `json:"pools,omitempty"`
	Upstreams []string `json:"upstreams,omitempty"`
	// Zones are the proxy_cache zones of its handlers.
	Zones []string `json:"zones,omitempty"`
}

// SiteHost is one host name of a site.
type SiteHost struct {
	Name string `json:"name"`
	// DNS lists what the DNS app answers for the name from its local
	// data (addresses, "CNAME target" or "NXDOMAIN"); empty when it
	// would forward the query. DNSApp is false when no DNS app runs.
	DNS    []string `json:"dns,omitempty"`
	DNSApp bool     `json:"dns_app"`
}

// siteMap walks the running http app: every top-level route with a host
// matcher is a site; its handlers (into subroutes) name its pools, static
// upstreams and cache zones.
func siteMap(ctx caddy.Context) []Site {
	out := []Site{}
	app, err := ctx.AppIfConfigured("http")
	if err != nil || app == nil {
		return out
	}
	httpApp, ok := app.(*caddyhttp.App)
	if !ok {
		return out
	}
	names := make([]string, 0, len(httpApp.Servers))
	for n := range httpApp.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		srv := httpApp.Servers[n]
		for _, route := range srv.Routes {
			hosts := routeHosts(route)
			if len(hosts) == 0 {
				continue
			}
			s := Site{Server: n, Listen: srv.Listen}
			for _, h := range hosts {
				addrs, ok := stats.ResolveLocal(h)
				s.Hosts = append(s.Hosts, SiteHost{Name: h, DNS: addrs, DNSApp: ok})
			}
			u := newUses()
			u.walk(route.Handlers)
			s.Pools, s.Upstreams, s.Zones = u.pools.list(), u.upstreams.list(), u.zones.list()
			out = append(out, s)
		}
	}
	return out
}

// routeHosts are the host names a route's matchers name.
func routeHosts(route caddyhttp.Route) []string {
	var out []string
	for _, set := range route.MatcherSets {
		for _, m := range set {
			switch h := m.(type) {
			case caddyhttp.MatchHost:
				out = append(out, h...)
			case *caddyhttp.MatchHost:
				out = append(out, *h...)
			}
		}
	}
	return out
}

// set is a sorted set of strings.
type set map[string]bool

func (s set) list() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// uses gathers what a site's handlers use.
type uses struct{ pools, upstreams, zones set }

func newUses() *uses { return &uses{pools: set{}, upstreams: set{}, zones: set{}} }

// walk looks at each handler, into subroutes.
func (u *uses) walk(handlers []caddyhttp.MiddlewareHandler) {
	for _, h := range handlers {
		switch h := h.(type) {
		case *caddyhttp.Subroute:
			for _, r := range h.Routes {
				u.walk(r.Handlers)
			}
		case *reverseproxy.Handler:
			if p, ok := h.DynamicUpstreams.(stats.Pooled); ok {
				u.pools[p.StatsPool()] = true
			}
			for _, up := range h.Upstreams {
				u.upstreams[strings.TrimSpace(up.Dial)] = true
			}
		case stats.Zoned:
			u.zones[h.StatsZone()] = true
		}
	}
}
