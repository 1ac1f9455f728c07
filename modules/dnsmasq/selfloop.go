package dnsmasq

import (
	"net"
	"net/netip"

	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// selfAddrs is the set of addresses (address and port) this server
// answers on: a nameserver there is Frontdesk itself, and forwarding to it
// would loop (the lab's resolv.conf with "nameserver 127.0.0.1" while
// Frontdesk listens on 127.0.0.1:53).
type selfAddrs map[netip.AddrPort]bool

// newSelfAddrs is the set for listen addresses (IP literals) on port. A
// wildcard listen address (0.0.0.0, ::) stands for every address of the
// machine's interfaces, as dnsmasq's own interface list does.
func newSelfAddrs(listen []string, port int) selfAddrs {
	s := selfAddrs{}
	if port <= 0 || port > 65535 {
		return s
	}
	p := uint16(port)
	for _, l := range listen {
		a, err := netip.ParseAddr(l)
		if err != nil {
			continue
		}
		a = a.Unmap()
		s[netip.AddrPortFrom(a, p)] = true
		if !a.IsUnspecified() {
			continue
		}
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			continue
		}
		for _, ia := range addrs {
			if n, ok := ia.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && (a.Is6() || ip.Unmap().Is4()) {
					s[netip.AddrPortFrom(ip.Unmap(), p)] = true
				}
			}
		}
	}
	return s
}

// isSelf reports whether u is one of the addresses this server answers
// on (0.0.0.0, which the stack treats as this machine, included).
func (s selfAddrs) isSelf(u conf.Upstream) bool {
	ap, err := netip.ParseAddrPort(u.Addr)
	if err != nil {
		return false
	}
	a := ap.Addr().WithZone("").Unmap()
	if a.IsUnspecified() {
		for k := range s {
			if k.Port() == ap.Port() {
				return true
			}
		}
		return false
	}
	return s[netip.AddrPortFrom(a, ap.Port())]
}

// dropSelf removes the servers that are this server itself, logging each
// once, as dnsmasq does ("ignoring nameserver 127.0.0.1 - local
// interface"): forwarding to them would send every query back to us.
// source says where the servers come from (server= or the resolv-file).
func (s selfAddrs) dropSelf(servers []conf.Upstream, source string, log *zap.Logger) []conf.Upstream {
	var out []conf.Upstream
	for _, u := range servers {
		if s.isSelf(u) {
			log.Warn("ignoring nameserver: it is one of this server's own listening addresses (local interface)",
				zap.String("nameserver", u.Addr), zap.String("source", source))
			continue
		}
		out = append(out, u)
	}
	return out
}

// dropSelfServers applies dropSelf to the server= lines, plain and for
// domains. A domain left without a server falls back to the less specific
// rules, as when dnsmasq removes the server.
func dropSelfServers(c *conf.Config, s selfAddrs, log *zap.Logger) {
	if len(s) == 0 {
		return
	}
	c.Servers = s.dropSelf(c.Servers, "server", log)
	for i, r := range c.Rules {
		if len(r.Servers) > 0 {
			c.Rules[i].Servers = s.dropSelf(r.Servers, "server=/"+r.Domain+"/", log)
		}
	}
}
