package dnsmasq

import (
	"net"
	"net/netip"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// localNetsOf maps each IPv4 address of an interface to its network, for
// localise-queries.
func localNetsOf(ifs []systemIface) map[netip.Addr]netip.Prefix {
	out := map[netip.Addr]netip.Prefix{}
	for _, si := range ifs {
		for i, a := range si.addrs {
			if a.Is4() && i < len(si.bits) && si.bits[i] > 0 {
				out[a] = netip.PrefixFrom(a, si.bits[i]).Masked()
			}
		}
	}
	return out
}

// localNet is the network localise-queries uses for a query that arrived
// at local address: the network of the interface that has that address.
// dnsmasq 2.90 localises only queries that arrived over IPv4 at an address
// of an interface (measured: a query to 127.0.0.1 is localised to
// 127.0.0.0/8, one to a listen-address 127.0.0.2 that no interface has is
// not localised at all); so does Frontdesk. Invalid when nothing applies.
func (r *resolver) localNet(local netip.Addr) netip.Prefix {
	if !r.cfg.Localise || !local.IsValid() {
		return netip.Prefix{}
	}
	return r.localNets[local.Unmap()]
}

// addrOf is the address of a net.Addr of a socket (invalid when unknown or
// unspecified).
func addrOf(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	default:
		return netip.Addr{}
	}
	out, ok := netip.AddrFromSlice(ip)
	if !ok || out.IsUnspecified() {
		return netip.Addr{}
	}
	return out.Unmap()
}

// localised reports whether localise-queries keeps IPv4 address a of a
// hosts-file or host-record name answered to a query that arrived on
// network lnet: when any IPv4 address of the name (addrs) is on lnet, only
// those are answered; otherwise all are (measured on 2.90; IPv6 addresses
// are never filtered).
func localised(lnet netip.Prefix, addrs []conf.HostEntry, a netip.Addr) bool {
	if !lnet.IsValid() || !a.Is4() || lnet.Contains(a) {
		return true
	}
	for _, h := range addrs {
		if lnet.Contains(h.Addr) {
			return false
		}
	}
	return true
}
