package dnsmasq

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// rebindOK reports whether name (lower case, no trailing dot) is under a
// rebind-domain-ok domain.
func (r *resolver) rebindOK(name string) bool {
	for _, d := range r.cfg.RebindOK {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// rebinding reports whether an answer to qtype (A or AAAA) holds an
// address of that type that stop-dns-rebind refuses (privateAddr; the
// loopback and unspecified ranges unless rebind-localhost-ok); records of
// other types (the targets of a CNAME chain are of the same type) are not
// looked at (rfc1035.c extract_addresses).
func (r *resolver) rebinding(rrs []dns.RR, qtype uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype != qtype {
			continue
		}
		if a, ok := exchange.RRAddr(rr); ok && privateAddr(a, !r.cfg.RebindLocalOK) {
			return true
		}
	}
	return false
}

// The ranges of dnsmasq's private_net and private_net6 (rfc1035.c): what
// it counts as not globally routed. Not the IANA special-purpose registry:
// the TEST-NETs, the broadcast address, fec0::/10 and 2001:db8::/32 are in,
// 100.64.0.0/10 and fc00::/8 are not.
var (
	privateAddrNets = mustPrefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
		"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "255.255.255.255/32",
		"fe80::/10", "fec0::/10", "fd00::/8", "2001:db8::/32")
	// localAddrNets are private only with banLocal.
	localAddrNets = mustPrefixes("127.0.0.0/8", "0.0.0.0/8", "::/128", "::1/128")
)

// privateAddr reports whether a is in dnsmasq's private address space
// (private_net, private_net6); with banLocal, the loopback and "this
// network" ranges count too. An IPv4-mapped IPv6 address is judged as the
// IPv4 address.
func privateAddr(a netip.Addr, banLocal bool) bool {
	a = a.Unmap()
	for _, p := range privateAddrNets {
		if p.Contains(a) {
			return true
		}
	}
	if banLocal {
		for _, p := range localAddrNets {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}
