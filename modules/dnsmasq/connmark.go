package dnsmasq

import (
	"net"
	"net/netip"
	"strings"

	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/netfilter"
)

// labelMatch matches one label against a pattern label with '*'.
func labelMatch(pat, s string) bool {
	i := strings.IndexByte(pat, '*')
	if i < 0 {
		return pat == s
	}
	if !strings.HasPrefix(s, pat[:i]) {
		return false
	}
	rest := pat[i+1:]
	for j := i; j <= len(s); j++ {
		if labelMatch(rest, s[j:]) {
			return true
		}
	}
	return false
}

// listAllows says whether the list lets name (lower case, no trailing dot)
// through.
func listAllows(l conf.ConnmarkList, name string) bool {
	if l.All {
		return true
	}
	labels := strings.Split(name, ".")
	for _, p := range l.Patterns {
		if len(p) != len(labels) {
			continue
		}
		ok := true
		for i := range p {
			if !labelMatch(p[i], labels[i]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// connmarkAllowed says whether a query for name on a flow with conntrack mark mark
// may be answered: marks (masked) without a matching list are refused.
func connmarkAllowed(c *conf.ConnmarkConfig, mark uint32, name string) bool {
	mark &= c.Mask
	if mark == 0 {
		return true
	}
	for _, l := range c.Lists {
		if mark&l.Mask == l.Mark && listAllows(l, name) {
			return true
		}
	}
	return false
}

// addrPort is the address and port of a net.Addr (UDP or TCP).
func addrPort(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.UDPAddr:
		return v.AddrPort()
	case *net.TCPAddr:
		return v.AddrPort()
	}
	if a != nil {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap
		}
	}
	return netip.AddrPort{}
}

// clientMark is the conntrack mark of the flow of a query from client that
// arrived at local (on the configured port), 0 when it has none or
// conntrack does not know the flow or cannot be asked, as with dnsmasq.
func (r *resolver) clientMark(client net.Addr, local netip.Addr, udp bool) uint32 {
	cp := addrPort(client)
	if !cp.IsValid() || !local.IsValid() {
		return 0
	}
	mark, _, err := netfilter.FlowMark(cp, netip.AddrPortFrom(local, uint16(r.cfg.Port)), udp)
	if err != nil {
		r.log.Debug("conntrack connection mark retrieval failed", zap.String("client", cp.String()), zap.Error(err))
		return 0
	}
	return mark
}
