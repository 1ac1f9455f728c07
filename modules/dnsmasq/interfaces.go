package dnsmasq

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// ifaceMatch reports whether an interface name matches a pattern of
// interface= or except-interface= (a trailing '*' is a wildcard).
func ifaceMatch(pattern, name string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, p)
	}
	return pattern == name
}

// systemIface is an interface and its addresses (IPv6 link-local ones carry
// the interface as zone).
type systemIface struct {
	name     string
	loopback bool
	addrs    []netip.Addr
	bits     []int // prefix length of each address (0 when unknown)
}

// systemIfaces lists the machine's interfaces; a variable so tests can
// replace it.
var systemIfaces = func() ([]systemIface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []systemIface
	for _, i := range ifs {
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		si := systemIface{name: i.Name, loopback: i.Flags&net.FlagLoopback != 0}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			if ip.Is6() && ip.IsLinkLocalUnicast() {
				ip = ip.WithZone(i.Name)
			}
			si.addrs = append(si.addrs, ip)
			ones, _ := ipn.Mask.Size()
			si.bits = append(si.bits, ones)
		}
		out = append(out, si)
	}
	return out, nil
}

// listenAddresses works out the addresses to listen on, as dnsmasq does
// from listen-address, interface (which adds the loopback interface) and
// except-interface (which always wins), except that with none of them
// Frontdesk listens on 127.0.0.1 only, where dnsmasq listens everywhere.
func listenAddresses(c *conf.Config) ([]string, error) {
	out := uniqueAppend(nil, c.ListenAddrs...)
	if len(c.Interfaces) == 0 && len(c.ExceptIfaces) == 0 {
		if len(out) == 0 {
			out = append(out, "127.0.0.1") // loopback only: never an open resolver by default
		}
		return out, nil
	}
	ifs, err := systemIfaces()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	if err := checkInterfaces(c.Interfaces, ifs); err != nil {
		return nil, err
	}
	excepted := exceptedIfaces(c.ExceptIfaces, ifs)
	out = uniqueAppend(out, usedIfaceAddrs(c, ifs, excepted)...)
	kept := dropExcepted(out, ifs, excepted)
	if len(kept) == 0 {
		return nil, fmt.Errorf("no address to listen on")
	}
	return kept, nil
}

// uniqueAppend appends the addresses of add that are not in out yet.
func uniqueAppend(out []string, add ...string) []string {
	for _, a := range add {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// checkInterfaces fails on an interface= name that matches no interface;
// a wildcard may match none.
func checkInterfaces(patterns []string, ifs []systemIface) error {
	for _, p := range patterns {
		found := slices.ContainsFunc(ifs, func(i systemIface) bool { return ifaceMatch(p, i.name) })
		if !found && !strings.HasSuffix(p, "*") {
			return fmt.Errorf("unknown interface %s", p)
		}
	}
	return nil
}

// exceptedIfaces are the names of the interfaces except-interface= matches.
func exceptedIfaces(patterns []string, ifs []systemIface) map[string]bool {
	excepted := map[string]bool{}
	for _, i := range ifs {
		for _, p := range patterns {
			if ifaceMatch(p, i.name) {
				excepted[i.name] = true
			}
		}
	}
	return excepted
}

// usedIfaceAddrs are the addresses of the interfaces interface= selects
// (with it, the loopback interface too), or of every interface when only
// except-interface is given; never those of an excepted one.
func usedIfaceAddrs(c *conf.Config, ifs []systemIface, excepted map[string]bool) []string {
	everything := len(c.Interfaces) == 0 && len(c.ListenAddrs) == 0 // only except-interface
	var out []string
	for _, i := range ifs {
		if excepted[i.name] {
			continue
		}
		use := everything || (len(c.Interfaces) > 0 && i.loopback)
		for _, p := range c.Interfaces {
			use = use || ifaceMatch(p, i.name)
		}
		if use {
			for _, a := range i.addrs {
				out = append(out, a.String())
			}
		}
	}
	return out
}

// dropExcepted removes the addresses of excepted interfaces from addrs:
// except-interface also removes listen-address entries on it.
func dropExcepted(addrs []string, ifs []systemIface, excepted map[string]bool) []string {
	gone := map[string]bool{}
	for _, i := range ifs {
		if excepted[i.name] {
			for _, ia := range i.addrs {
				gone[ia.String()] = true
			}
		}
	}
	var kept []string
	for _, a := range addrs {
		if !gone[a] {
			kept = append(kept, a)
		}
	}
	return kept
}
