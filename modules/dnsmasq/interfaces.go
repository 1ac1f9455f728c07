package dnsmasq

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
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
func listenAddresses(c *Config) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, a := range c.ListenAddrs {
		add(a)
	}
	if len(c.Interfaces) == 0 && len(c.ExceptIfaces) == 0 {
		if len(out) == 0 {
			add("127.0.0.1") // loopback only: never an open resolver by default
		}
		return out, nil
	}
	ifs, err := systemIfaces()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	excepted := map[string]bool{}
	for _, i := range ifs {
		for _, p := range c.ExceptIfaces {
			if ifaceMatch(p, i.name) {
				excepted[i.name] = true
			}
		}
	}
	for _, p := range c.Interfaces {
		found := false
		for _, i := range ifs {
			if ifaceMatch(p, i.name) {
				found = true
			}
		}
		if !found && !strings.HasSuffix(p, "*") {
			return nil, fmt.Errorf("unknown interface %s", p)
		}
	}
	everything := len(c.Interfaces) == 0 && len(c.ListenAddrs) == 0 // only except-interface
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
				add(a.String())
			}
		}
	}
	// except-interface also removes listen-address entries on it.
	var kept []string
	for _, a := range out {
		drop := false
		for _, i := range ifs {
			if excepted[i.name] {
				for _, ia := range i.addrs {
					if ia.String() == a {
						drop = true
					}
				}
			}
		}
		if !drop {
			kept = append(kept, a)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("no address to listen on")
	}
	return kept, nil
}
