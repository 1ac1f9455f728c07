package dnsmasq

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// SiteRecords makes the DNS server answer A/AAAA for the site names of the
// same configuration (the host matchers of the http app's routes), so that
// `myapp.local { ... }` resolves with no extra line.
type SiteRecords struct {
	// Addresses answered for every site name. Default: 127.0.0.1.
	Addresses []string `json:"addresses,omitempty"`
}

func (s *SiteRecords) addrs() ([]netip.Addr, error) {
	if len(s.Addresses) == 0 {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	var out []netip.Addr
	for _, a := range s.Addresses {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, fmt.Errorf("site_records: bad address %q", a)
		}
		out = append(out, ip.Unmap())
	}
	return out, nil
}

// siteNames lists the exact host names the http app's top-level routes
// match (wildcards, IP addresses and placeholders are skipped).
func siteNames(ctx caddy.Context) ([]string, error) {
	app, err := ctx.AppIfConfigured("http")
	if err != nil || app == nil {
		return nil, nil // no http app: no sites
	}
	httpApp, ok := app.(*caddyhttp.App)
	if !ok {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, srv := range httpApp.Servers {
		for _, route := range srv.Routes {
			for _, set := range route.MatcherSets {
				for _, m := range set {
					var hosts caddyhttp.MatchHost
					switch h := m.(type) {
					case caddyhttp.MatchHost:
						hosts = h
					case *caddyhttp.MatchHost:
						hosts = *h
					default:
						continue
					}
					for _, h := range hosts {
						h = canon(h)
						if h == "" || strings.ContainsAny(h, "*{}") || !validName(h) {
							continue
						}
						if _, err := netip.ParseAddr(h); err == nil {
							continue
						}
						seen[h] = true
					}
				}
			}
		}
	}
	var out []string
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out, nil
}

// siteHostEntries are the hosts entries site_records adds.
func (a *App) siteHostEntries(ctx caddy.Context) ([]conf.HostEntry, error) {
	if a.SiteRecords == nil {
		return nil, nil
	}
	addrs, err := a.SiteRecords.addrs()
	if err != nil {
		return nil, err
	}
	names, err := siteNames(ctx)
	if err != nil {
		return nil, err
	}
	var out []conf.HostEntry
	for _, n := range names {
		for _, ip := range addrs {
			out = append(out, conf.HostEntry{Name: n, Addr: ip, TTL: -1})
		}
	}
	if len(names) > 0 {
		a.log.Info("site_records", zap.Strings("names", names))
	}
	return out, nil
}
