package conf

import (
	"errors"
	"net/netip"
	"strings"
)

// IfaceName is one interface-name= or dynamic-host= line: a name whose
// A/AAAA records are the addresses of an interface (interface-name) or
// addresses built from the interface's networks and a given host part
// (dynamic-host). dnsmasq keeps both in one list, in the order of the
// lines, and so does Frontdesk: the order decides the PTR answers.
type IfaceName struct {
	Name    string
	Iface   string
	Family  int        // interface-name: 0 = both, 4 or 6 (iface/4, iface/6)
	Dynamic bool       // dynamic-host
	Host4   netip.Addr // dynamic-host: host part of the IPv4 addresses (invalid = none)
	Host6   netip.Addr // dynamic-host: host part of the IPv6 addresses (invalid = none)
}

// parseInterfaceName parses interface-name=<name>,<interface>[/4|/6].
func parseInterfaceName(val string) (IfaceName, error) {
	f := fields(val)
	if len(f) != 2 || !ValidName(f[0]) {
		return IfaceName{}, badArg("interface-name")
	}
	n := IfaceName{Name: NameKey(f[0]), Iface: f[1]}
	if i, fam, ok := strings.Cut(f[1], "/"); ok {
		switch fam {
		case "4":
			n.Family = 4
		case "6":
			n.Family = 6
		default:
			return IfaceName{}, errors.New("bad interface family in --interface-name (only /4 or /6)")
		}
		n.Iface = i
	}
	if n.Iface == "" {
		return IfaceName{}, errors.New("bad interface name in --interface-name")
	}
	return n, nil
}

// parseDynamicHost parses
// dynamic-host=<name>,[IPv4-address],[IPv6-address],<interface>: one or two
// addresses (one of each family, in either order; dnsmasq rejects an empty
// field), then the interface.
func parseDynamicHost(val string) (IfaceName, error) {
	f := fields(val)
	if len(f) < 3 || len(f) > 4 {
		return IfaceName{}, errors.New("missing address in --dynamic-host")
	}
	if !ValidName(f[0]) {
		return IfaceName{}, badArg("dynamic-host")
	}
	n := IfaceName{Name: NameKey(f[0]), Dynamic: true, Iface: f[len(f)-1]}
	for _, s := range f[1 : len(f)-1] {
		a, err := ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return IfaceName{}, errors.New("missing address in --dynamic-host")
		}
		switch {
		case a.Is4() && !n.Host4.IsValid():
			n.Host4 = a
		case a.Is6() && !a.Is4In6() && !n.Host6.IsValid():
			n.Host6 = a
		default:
			return IfaceName{}, errors.New("bad address in --dynamic-host (at most one IPv4 and one IPv6 address)")
		}
	}
	if n.Iface == "" {
		return IfaceName{}, errors.New("bad interface name in --dynamic-host")
	}
	return n, nil
}

// optInterfaceName parses interface-name, dynamic-host.
func optInterfaceName(p *parser, o arg) error {
	parse := parseInterfaceName
	if o.name == "dynamic-host" {
		parse = parseDynamicHost
	}
	return appendParsed(&p.c.IfaceNames, o, parse)
}
