package conf

// The parse functions of the options that filter answers (see table.go).

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"
)

// optFilterA parses filter-A.
func optFilterA(p *parser, o arg) error {
	c := p.c
	c.FilterRR = append(c.FilterRR, dns.TypeA)
	return o.noVal()
}

// optFilterAAAA parses filter-AAAA.
func optFilterAAAA(p *parser, o arg) error {
	c := p.c
	c.FilterRR = append(c.FilterRR, dns.TypeAAAA)
	return o.noVal()
}

// optRRTypes parses filter-rr, cache-rr.
func optRRTypes(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	for _, f := range splitArgs(o.val, -1) {
		t, ok := parseType(f)
		if n, num := atoiCheck(f); num {
			// A number, the empty field too (type 0); one above
			// 65535 names no type and matches nothing.
			if n < 0 || n > 65535 {
				continue
			}
			t, ok = uint16(n), true
		}
		if !ok {
			return fmt.Errorf("bad RR type in --%s: %q", o.name, f)
		}
		switch {
		case o.name == "filter-rr" && t == dns.TypeANY:
			c.FilterANY = true
		case o.name == "filter-rr":
			c.FilterRR = append(c.FilterRR, t)
		default:
			c.CacheRR = append(c.CacheRR, t)
		}
	}
	return nil
}

// optIgnoreAddress parses ignore-address.
func optIgnoreAddress(p *parser, o arg) error { return appendPrefix(&p.c.IgnoreAddrs, o) }

// optBogusNXDomain parses bogus-nxdomain.
func optBogusNXDomain(p *parser, o arg) error { return appendPrefix(&p.c.BogusNX, o) }

// appendPrefix parses the address or prefix of o onto list.
func appendPrefix(list *[]netip.Prefix, o arg) error {
	return appendParsed(list, o, func(s string) (netip.Prefix, error) {
		pfx, err := parsePrefix(s)
		if err != nil {
			return pfx, errors.New("bad address in --" + o.name)
		}
		return pfx, nil
	})
}
