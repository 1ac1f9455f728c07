package conf

import (
	"errors"
	"net/netip"
	"strings"
)

// DomainRange is a domain=<name>,<address range>[,local] line: hosts-file
// names whose address is in the range get this domain from expand-hosts
// instead of the plain domain=.
type DomainRange struct {
	Domain     string
	Prefix     netip.Prefix // <ip>/<len> form (invalid for start,end)
	Start, End netip.Addr   // <start>,<end> form
}

// parseDomainRange parses the part of domain= after the name: <ip>/<len>[,local]
// or <start>,<end>[,local]. With the <ip>/<len> form, local adds local=/name/
// and local= for the reverse zones of the range; with the <start>,<end>
// form dnsmasq 2.90 accepts local and ignores it (measured), and so does
// Frontdesk.
func (p *parser) parseDomainRange(name, val string) error {
	f := fields(val)
	local := len(f) > 1 && f[len(f)-1] == "local"
	if local {
		f = f[:len(f)-1]
	}
	r := DomainRange{Domain: name}
	switch {
	case len(f) == 1 && f[0] == "":
		// domain=<name>, (a trailing comma): dnsmasq reads an interface
		// with no name, whose zeroed range is the one address 0.0.0.0
		// (option.c, --domain; measured on 2.90).
		r.Start, r.End = netip.IPv4Unspecified(), netip.IPv4Unspecified()
		local = false
	case len(f) == 1 && strings.Contains(f[0], "/"):
		pfx, err := netip.ParsePrefix(f[0])
		if err != nil || pfx.Addr().Zone() != "" {
			return errors.New("bad prefix in --domain")
		}
		r.Prefix = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-(pfx.Addr().BitLen()-pfx.Addr().Unmap().BitLen())).Masked()
		if r.Prefix.Bits() < 1 {
			return errors.New("bad prefix length in --domain")
		}
	case len(f) == 2:
		a, err1 := ParseAddr(f[0])
		b, err2 := ParseAddr(f[1])
		if err1 != nil || err2 != nil || a.Unmap().BitLen() != b.Unmap().BitLen() || b.Unmap().Less(a.Unmap()) {
			return errors.New("bad address range in --domain")
		}
		r.Start, r.End = a.Unmap(), b.Unmap()
		local = false
	default:
		// A lone address or an interface name: DHCP forms Frontdesk does
		// not implement.
		return errors.New("bad address range in --domain (Frontdesk supports <ip>/<len> and <start>,<end>)")
	}
	p.c.DomainRanges = append(p.c.DomainRanges, r)
	if local {
		p.c.Rules = append(p.c.Rules, DomainRule{Domain: name, Local: true})
		zones, err := coveringReverseZones(r.Prefix)
		if err != nil {
			return err
		}
		for _, z := range zones {
			p.c.Rules = append(p.c.Rules, DomainRule{Domain: z, Local: true})
		}
	}
	return nil
}

// coveringReverseZones are the reverse zones that hold exactly the reverse
// names of pfx: a prefix that does not end at a label boundary (8 bits for
// IPv4, 4 for IPv6) is split into the zones of the next boundary (measured
// on 2.90: domain=x,192.168.0.0/23,local makes 0.168.192.in-addr.arpa and
// 1.168.192.in-addr.arpa local).
func coveringReverseZones(pfx netip.Prefix) ([]string, error) {
	step := 4
	if pfx.Addr().Is4() {
		step = 8
	}
	bits := pfx.Bits()
	whole := (bits + step - 1) / step * step
	var out []string
	for i := 0; i < 1<<(whole-bits); i++ {
		sub := netip.PrefixFrom(addBits(pfx.Addr(), whole, i), whole)
		zs, err := ReverseZones(sub)
		if err != nil {
			return nil, err
		}
		out = append(out, zs...)
	}
	return out, nil
}

// addBits sets the bits of a just before position end to n (an index of a
// sub-prefix of length end).
func addBits(a netip.Addr, end, n int) netip.Addr {
	b := a.AsSlice()
	for i := 0; n > 0; i++ {
		pos := end - 1 - i // bit position from the left
		if n&1 == 1 {
			b[pos/8] |= 0x80 >> (pos % 8)
		}
		n >>= 1
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}
