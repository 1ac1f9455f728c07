package dnsmasq

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: dns.Fqdn(canon(name)), Rrtype: t, Class: dns.ClassINET}
}

// record parses the options that define one local resource record. TTLs are
// left 0 and replaced by local-ttl when answering.
func (p *parser) record(opt, val string) error {
	f := fields(val)
	bad := errors.New("bad argument to --" + opt)
	if !validName(f[0]) {
		return bad
	}
	name := f[0]
	u16 := func(s string) (uint16, bool) {
		n, err := strconv.ParseUint(s, 10, 16)
		return uint16(n), err == nil
	}
	var rr dns.RR
	switch opt {
	case "txt-record":
		t := &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: []string{}}
		for _, s := range f[1:] {
			for len(s) > 255 {
				t.Txt = append(t.Txt, s[:255])
				s = s[255:]
			}
			t.Txt = append(t.Txt, s)
		}
		if len(f) == 1 {
			t.Txt = []string{""}
		}
		rr = t
	case "mx-host":
		target, pref := "", uint16(1)
		if len(f) > 3 {
			return bad
		}
		defaultTarget := len(f) == 1
		if len(f) >= 2 {
			target = f[1]
		}
		if len(f) == 3 {
			var ok bool
			if pref, ok = u16(f[2]); !ok {
				return bad
			}
		}
		if target != "" && !validName(target) {
			return bad
		}
		mx := &dns.MX{Hdr: hdr(name, dns.TypeMX), Mx: presentation(target), Preference: pref}
		if defaultTarget {
			// mx-target, or this machine's name: known once every line is read.
			p.c.mxDefault = append(p.c.mxDefault, mx)
		}
		rr = mx
		p.c.MXHosts = append(p.c.MXHosts, canon(name))
	case "srv-host":
		// dnsmasq's defaults: port 1, priority 0, weight 0, target "."
		s := &dns.SRV{Hdr: hdr(name, dns.TypeSRV), Target: ".", Port: 1}
		if len(f) > 5 {
			return bad
		}
		if len(f) >= 2 {
			if !validName(f[1]) {
				return bad
			}
			s.Target = presentation(f[1])
		}
		for i, dst := range []*uint16{&s.Port, &s.Priority, &s.Weight} {
			if len(f) > i+2 {
				n, ok := u16(f[i+2])
				if !ok {
					return bad
				}
				*dst = n
			}
		}
		rr = s
	case "ptr-record":
		if len(f) != 2 || strings.Trim(f[1], ".") == "" {
			return bad
		}
		rr = &dns.PTR{Hdr: hdr(name, dns.TypePTR), Ptr: presentation(f[1])}
	case "naptr-record":
		if len(f) < 6 || len(f) > 7 {
			return bad
		}
		order, ok1 := u16(f[1])
		pref, ok2 := u16(f[2])
		if !ok1 || !ok2 {
			return bad
		}
		n := &dns.NAPTR{Hdr: hdr(name, dns.TypeNAPTR), Order: order, Preference: pref, Flags: f[3], Service: f[4], Regexp: f[5], Replacement: "."}
		if len(f) == 7 && f[6] != "" {
			n.Replacement = presentation(f[6])
		}
		rr = n
	case "caa-record":
		if len(f) != 4 {
			return bad
		}
		fl, err := strconv.ParseUint(f[1], 10, 8)
		if err != nil {
			return bad
		}
		rr = &dns.CAA{Hdr: hdr(name, dns.TypeCAA), Flag: uint8(fl), Tag: f[2], Value: f[3]}
	case "dns-rr":
		if len(f) < 2 || len(f) > 3 {
			return bad
		}
		t, ok := u16(f[1])
		if !ok {
			return bad
		}
		var data []byte
		if len(f) == 3 {
			h := strings.NewReplacer(":", "", " ", "").Replace(f[2])
			var err error
			if data, err = hex.DecodeString(h); err != nil {
				return bad
			}
		}
		rr = &dns.RFC3597{Hdr: hdr(name, t), Rdata: hex.EncodeToString(data)}
	}
	p.c.Records = append(p.c.Records, rr)
	return nil
}

// presentation turns a name as written in dnsmasq.conf (where a label may
// hold any character, for example a space in DNS-SD names) into a fully
// qualified name in presentation format, lower case like dnsmasq's.
func presentation(s string) string {
	s = strings.ToLower(strings.Trim(s, "."))
	if s == "" {
		return "."
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.', c == '-', c == '_', c == '*', c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	return b.String() + "."
}
