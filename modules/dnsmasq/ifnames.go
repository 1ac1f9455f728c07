package dnsmasq

import (
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// ifaceName is one interface-name= or dynamic-host= line: a name whose
// A/AAAA records are the addresses of an interface (interface-name) or
// addresses built from the interface's networks and a given host part
// (dynamic-host). dnsmasq keeps both in one list, in the order of the
// lines, and so does Frontdesk: the order decides the PTR answers.
type ifaceName struct {
	Name    string
	Iface   string
	Family  int        // interface-name: 0 = both, 4 or 6 (iface/4, iface/6)
	Dynamic bool       // dynamic-host
	Host4   netip.Addr // dynamic-host: host part of the IPv4 addresses (invalid = none)
	Host6   netip.Addr // dynamic-host: host part of the IPv6 addresses (invalid = none)
}

// parseInterfaceName parses interface-name=<name>,<interface>[/4|/6].
func parseInterfaceName(val string) (ifaceName, error) {
	f := fields(val)
	if len(f) != 2 || !validName(f[0]) {
		return ifaceName{}, badArg("interface-name")
	}
	n := ifaceName{Name: canon(f[0]), Iface: f[1]}
	if i, fam, ok := strings.Cut(f[1], "/"); ok {
		switch fam {
		case "4":
			n.Family = 4
		case "6":
			n.Family = 6
		default:
			return ifaceName{}, errors.New("bad interface family in --interface-name (only /4 or /6)")
		}
		n.Iface = i
	}
	if n.Iface == "" {
		return ifaceName{}, errors.New("bad interface name in --interface-name")
	}
	return n, nil
}

// parseDynamicHost parses
// dynamic-host=<name>,[IPv4-address],[IPv6-address],<interface>: one or two
// addresses (one of each family, in either order; dnsmasq rejects an empty
// field), then the interface.
func parseDynamicHost(val string) (ifaceName, error) {
	f := fields(val)
	if len(f) < 3 || len(f) > 4 {
		return ifaceName{}, errors.New("missing address in --dynamic-host")
	}
	if !validName(f[0]) {
		return ifaceName{}, badArg("dynamic-host")
	}
	n := ifaceName{Name: canon(f[0]), Dynamic: true, Iface: f[len(f)-1]}
	for _, s := range f[1 : len(f)-1] {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return ifaceName{}, errors.New("missing address in --dynamic-host")
		}
		switch {
		case a.Is4() && !n.Host4.IsValid():
			n.Host4 = a
		case a.Is6() && !a.Is4In6() && !n.Host6.IsValid():
			n.Host6 = a
		default:
			return ifaceName{}, errors.New("bad address in --dynamic-host (at most one IPv4 and one IPv6 address)")
		}
	}
	if n.Iface == "" {
		return ifaceName{}, errors.New("bad interface name in --dynamic-host")
	}
	return n, nil
}

// ifaceAnswer is an ifaceName with the addresses it has now.
type ifaceAnswer struct {
	ifaceName
	addrs []netip.Addr
}

// resolveIfaceNames works out the addresses of each interface-name and
// dynamic-host line from the interfaces ifs. IPv6 link-local addresses are
// never used (measured on 2.90); an interface that does not exist or has no
// address gives none. A dynamic-host address takes the network part
// (prefix length of the interface address) from each interface address of
// its family and the host part from the line.
func resolveIfaceNames(names []ifaceName, ifs []systemIface) []ifaceAnswer {
	out := make([]ifaceAnswer, 0, len(names))
	for _, n := range names {
		ans := ifaceAnswer{ifaceName: n}
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
			rev, err := reverseName(want)
			if err != nil {
				continue
			}
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
// trailing dot).
func reverseName(a netip.Addr) (string, error) {
	r, err := dns.ReverseAddr(a.String())
	return canon(r), err
}

// addIfaceNames gives the names of interface-name and dynamic-host lines
// their current addresses. Their A/AAAA records replace those of the hosts
// files and host-record for the same name (measured on 2.90: a hosts entry
// of such a name is not answered, even when the interface has no address of
// that family); other record types of the name stay.
func (s *Store) addIfaceNames(ans []ifaceAnswer) {
	if len(ans) == 0 {
		return
	}
	fresh := map[string]bool{}
	for _, a := range ans {
		nd := s.names[a.Name]
		if nd == nil {
			nd = &node{}
			s.names[a.Name] = nd
		}
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
				nd.addrs = append(nd.addrs, hostEntry{Name: a.Name, Addr: ip, TTL: -1})
				nd.ips = append(nd.ips, net.IP(ip.AsSlice()))
			}
		}
	}
	s.ifacePTR = ifacePTRs(ans)
	s.indexKnown()
}
