package dnsmasq

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// ifaceAnswer is an ifaceName with the addresses it has now.
type ifaceAnswer struct {
	conf.IfaceName
	addrs []netip.Addr
}

// resolveIfaceNames works out the addresses of each interface-name and
// dynamic-host line from the interfaces ifs. IPv6 link-local addresses are
// never used (measured on 2.90); an interface that does not exist or has no
// address gives none. A dynamic-host address takes the network part
// (prefix length of the interface address) from each interface address of
// its family and the host part from the line.
func resolveIfaceNames(names []conf.IfaceName, ifs []systemIface) []ifaceAnswer {
	out := make([]ifaceAnswer, 0, len(names))
	for _, n := range names {
		ans := ifaceAnswer{IfaceName: n}
		for _, si := range ifs {
			if si.name != n.Iface {
				continue
			}
			for i, a := range si.addrs {
				if a.Is6() && a.IsLinkLocalUnicast() {
					continue
				}
				bits := a.BitLen()
				if i < len(si.bits) && si.bits[i] > 0 {
					bits = si.bits[i]
				}
				switch {
				case n.Dynamic && a.Is4() && n.Host4.IsValid():
					ans.addrs = append(ans.addrs, mergeHost(a, bits, n.Host4))
				case n.Dynamic && a.Is6() && n.Host6.IsValid():
					ans.addrs = append(ans.addrs, mergeHost(a, bits, n.Host6))
				case !n.Dynamic && (n.Family == 0 || n.Family == 4 && a.Is4() || n.Family == 6 && a.Is6()):
					ans.addrs = append(ans.addrs, a.WithZone(""))
				}
			}
		}
		out = append(out, ans)
	}
	return out
}

// mergeHost is the network part (the first bits) of network and the host
// part (the rest) of host, two addresses of the same family.
func mergeHost(network netip.Addr, bits int, host netip.Addr) netip.Addr {
	n, h := network.As16(), host.As16()
	if network.Is4() {
		bits += 96
		h = netip.AddrFrom4(host.As4()).As16() // host may be given as IPv4
	}
	for i := range n {
		keep := min(max(bits-8*i, 0), 8) // network bits in this byte
		mask := byte(0xff << (8 - keep))
		n[i] = n[i]&mask | h[i]&^mask
	}
	out := netip.AddrFrom16(n)
	if network.Is4() {
		return out.Unmap()
	}
	return out
}

// ifacePTRs decides which name answers the PTR query of each address, as
// dnsmasq 2.90 does (measured): the lines are tried in order; the first
// with the address wins, and an interface-name line without it skips the
// lines right after it for the same interface (dynamic-host lines do not
// skip). It returns reverse name -> name.
func ifacePTRs(ans []ifaceAnswer) map[string]string {
	out := map[string]string{}
	for _, cand := range ans {
		for _, want := range cand.addrs {
			rev := reverseName(want)
			if _, done := out[rev]; done {
				continue
			}
			for i := 0; i < len(ans); i++ {
				e := ans[i]
				found := false
				for _, a := range e.addrs {
					found = found || a == want
				}
				if found {
					out[rev] = e.Name
					break
				}
				if !e.Dynamic {
					for i+1 < len(ans) && ans[i+1].Iface == e.Iface {
						i++
					}
				}
			}
		}
	}
	return out
}

// reverseName is the in-addr.arpa or ip6.arpa name of a (lower case, no
// trailing dot). An IPv4-mapped IPv6 address is an IPv6 address's, as
// dnsmasq stores it (dns.ReverseAddr would give the IPv4 one).
func reverseName(a netip.Addr) string {
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa", b[3], b[2], b[1], b[0])
	}
	const hexDigits = "0123456789abcdef"
	b := a.As16()
	out := make([]byte, 0, 72)
	for i := len(b) - 1; i >= 0; i-- {
		out = append(out, hexDigits[b[i]&0xf], '.', hexDigits[b[i]>>4], '.')
	}
	return string(out) + "ip6.arpa"
}

// addIfaceNames gives the names of interface-name and dynamic-host lines
// their current addresses. Their A/AAAA records replace those of the hosts
// files and host-record for the same name (measured on 2.90: a hosts entry
// of such a name is not answered, even when the interface has no address of
// that family); other record types of the name stay.
func (s *localStore) addIfaceNames(ans []ifaceAnswer) {
	if len(ans) == 0 {
		return
	}
	fresh := map[string]bool{}
	for _, a := range ans {
		nd := s.node(a.Name)
		nd.iface = true
		if !fresh[a.Name] {
			fresh[a.Name] = true
			nd.addrs, nd.ips = nil, nil
		}
		for _, ip := range a.addrs {
			dup := false
			for _, e := range nd.addrs {
				dup = dup || e.Addr == ip
			}
			if !dup {
				nd.addrs = append(nd.addrs, conf.HostEntry{Name: a.Name, Addr: ip, TTL: -1})
				nd.ips = append(nd.ips, net.IP(ip.AsSlice()))
			}
		}
	}
	s.ifacePTR = ifacePTRs(ans)
	s.indexKnown()
}
