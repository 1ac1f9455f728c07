package conf

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Hdr is the header of a local record for name: class IN, TTL left 0.
func Hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: dns.Fqdn(Canon(name)), Rrtype: t, Class: dns.ClassINET}
}

// recordFields is how many fields each record option reads (the last one
// holding the rest of the line), as dnsmasq 2.90's option.c splits them.
var recordFields = map[string]int{
	"txt-record": 2, "mx-host": 3, "srv-host": 5, "ptr-record": 2, "naptr-record": 7, "caa-record": 4, "dns-rr": 3,
}

// recordError is dnsmasq's message for a record option it refuses.
var recordError = map[string]string{
	"txt-record": "bad TXT record", "mx-host": "bad MX name", "srv-host": "bad SRV record", "ptr-record": "bad PTR record",
	"naptr-record": "bad NAPTR record", "caa-record": "bad CAA record", "dns-rr": "bad RR record",
}

// record parses the options that define one local resource record, field
// by field as dnsmasq 2.90 does (option.c): an empty value is a record of
// the root, an empty number is 0, an empty target is the root, and the last
// field holds the rest of the line. TTLs are left 0 and replaced by
// local-ttl when answering.
func (p *parser) record(opt, val string) error {
	f := splitArgs(val, recordFields[opt])
	bad := errors.New(recordError[opt])
	name, ok := ownerName(f[0])
	if !ok {
		return bad
	}
	var rr dns.RR
	switch opt {
	case "txt-record":
		t := &dns.TXT{Hdr: Hdr(name, dns.TypeTXT), Txt: []string{""}}
		if _, rest, ok := strings.Cut(val, ","); ok {
			// Every unquoted comma starts a new string; the spaces around
			// it are kept.
			t.Txt = t.Txt[:0]
			for _, s := range strings.Split(strings.TrimLeft(rest, " "), ",") {
				s = unquoter.Replace(s)
				for len(s) > 255 {
					t.Txt = append(t.Txt, s[:255])
					s = s[255:]
				}
				t.Txt = append(t.Txt, s)
			}
		}
		rr = t
	case "mx-host":
		mx := &dns.MX{Hdr: Hdr(name, dns.TypeMX), Preference: 1}
		if len(f) == 3 {
			var ok bool
			if mx.Preference, ok = atoiCheck16(f[2]); !ok {
				return errors.New("bad MX preference")
			}
		}
		if len(f) == 1 {
			// mx-target, or this machine's name: known once every line is read.
			p.c.mxDefault = append(p.c.mxDefault, mx)
		} else if !dataName(f[1]) {
			return bad
		} else {
			mx.Mx = Presentation(f[1])
		}
		rr = mx
		p.c.MXHosts = append(p.c.MXHosts, name)
	case "srv-host":
		// dnsmasq's defaults: target ".", port 1, priority 0, weight 0.
		s := &dns.SRV{Hdr: Hdr(name, dns.TypeSRV), Target: ".", Port: 1}
		if len(f) >= 2 {
			if !dataName(f[1]) {
				return errors.New("bad SRV target")
			}
			s.Target = Presentation(f[1])
		}
		for i, dst := range []*uint16{&s.Port, &s.Priority, &s.Weight} {
			if len(f) > i+2 {
				n, ok := atoiCheck16(f[i+2])
				if !ok {
					return errors.New([]string{"invalid port number", "invalid priority", "invalid weight"}[i])
				}
				*dst = n
			}
		}
		rr = s
	case "ptr-record":
		// Without a target the record points to the root.
		ptr := &dns.PTR{Hdr: Hdr(name, dns.TypePTR), Ptr: "."}
		if len(f) == 2 {
			if !dataName(f[1]) {
				return bad
			}
			ptr.Ptr = Presentation(f[1])
		}
		rr = ptr
	case "naptr-record":
		if len(f) < 6 {
			return bad
		}
		order, ok1 := atoiCheck16(f[1])
		pref, ok2 := atoiCheck16(f[2])
		if !ok1 || !ok2 {
			return bad
		}
		n := &dns.NAPTR{Hdr: Hdr(name, dns.TypeNAPTR), Order: order, Preference: pref, Flags: f[3], Service: f[4], Regexp: f[5], Replacement: "."}
		if len(f) == 7 {
			if !dataName(f[6]) {
				return bad
			}
			n.Replacement = Presentation(f[6])
		}
		rr = n
	case "caa-record":
		if len(f) != 4 {
			return bad
		}
		fl, ok := atoiCheck(f[1])
		if !ok {
			return bad
		}
		// dnsmasq stores the flags in one byte.
		rr = &dns.CAA{Hdr: Hdr(name, dns.TypeCAA), Flag: uint8(fl), Tag: f[2], Value: f[3]}
	case "dns-rr":
		if len(f) < 2 {
			return bad
		}
		t, ok := atoiCheck(f[1])
		if !ok {
			return bad
		}
		if t < 0 || t > 65535 {
			// dnsmasq keeps the number and answers it only to ANY, with
			// its low 16 bits as the type: a documented difference.
			return errors.New("bad RR record: the type must be 0 to 65535")
		}
		var data []byte
		if len(f) == 3 {
			var err error
			if data, err = parseHex(f[2]); err != nil {
				return bad
			}
		}
		rr = &dns.RFC3597{Hdr: Hdr(name, uint16(t)), Rdata: hex.EncodeToString(data)}
	}
	p.c.Records = append(p.c.Records, rr)
	return nil
}

// Presentation turns a name as written in dnsmasq.conf (where a label may
// hold any character, for example a space in DNS-SD names) into a fully
// qualified name in presentation format, lower case like dnsmasq's.
func Presentation(s string) string {
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

// optMXTarget parses mx-target.
func optMXTarget(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	if !dataName(o.val) {
		return errors.New("bad MX target")
	}
	c.MXTarget = o.val
	if o.val == "" {
		c.MXTarget = "." // dnsmasq: an empty target is the root
	}
	return nil
}

// optRecord parses txt-record, srv-host, mx-host, ptr-record, naptr-record, caa-record, dns-rr.
func optRecord(p *parser, o arg) error {
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	return p.record(o.name, o.val)
}
