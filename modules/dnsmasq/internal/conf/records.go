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

// record is the parse function of an option that defines one local
// resource record, read field by field as dnsmasq 2.90 does (option.c):
// the value is split into at most fields fields (the last one holding the
// rest of the line), the first is the owner name, and build makes the
// record of the others; msg is dnsmasq's message for a line it refuses. An
// empty value is a record of the root, an empty number is 0, an empty
// target is the root. TTLs are left 0 and replaced by local-ttl when
// answering.
func record(fields int, msg string, build recordBuilder) parseFunc {
	return func(p *parser, o arg) error {
		if !o.has {
			return fmt.Errorf("missing argument to --%s", o.name)
		}
		f := splitArgs(o.val, fields)
		bad := errors.New(msg)
		name, ok := ownerName(f[0])
		if !ok {
			return bad
		}
		rr, err := build(p, name, f, o.val, bad)
		if err != nil {
			return err
		}
		p.c.Records = append(p.c.Records, rr)
		return nil
	}
}

// recordBuilder makes the record of an owner name and the value's fields f
// (val: the whole value); bad is the option's error for a line it refuses.
type recordBuilder func(p *parser, name string, f []string, val string, bad error) (dns.RR, error)

// txtRecord builds the record of a txt-record line.
func txtRecord(p *parser, name string, f []string, val string, bad error) (dns.RR, error) {
	t := &dns.TXT{Hdr: Hdr(name, dns.TypeTXT), Txt: []string{""}}
	if _, rest, ok := strings.Cut(val, ","); ok {
		// Every unquoted comma starts a new string; the spaces around
		// it are kept.
		t.Txt = t.Txt[:0]
		for _, s := range strings.Split(strings.TrimLeft(rest, " "), ",") {
			s = unquoter.Replace(s)
			for len(s) > 255 {
				t.Txt = append(t.Txt, wireText(s[:255]))
				s = s[255:]
			}
			t.Txt = append(t.Txt, wireText(s))
		}
	}
	return t, nil
}

// wireText is s as miekg/dns reads the character strings it packs (TXT,
// CAA, NAPTR): a backslash escaped, so that every byte of the line reaches
// the wire as it is, as dnsmasq sends it ("a\\065" stays five bytes).
func wireText(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}

// charString is s as one DNS character-string, cut at 255 bytes as
// dnsmasq's add_resource_record ('z') cuts it (miekg/dns cannot pack a
// longer one), in wireText's form.
func charString(s string) string {
	return wireText(s[:min(len(s), 255)])
}

// mxHost builds the record of a mx-host line.
func mxHost(p *parser, name string, f []string, val string, bad error) (dns.RR, error) {
	mx := &dns.MX{Hdr: Hdr(name, dns.TypeMX), Preference: 1}
	if len(f) == 3 {
		var ok bool
		if mx.Preference, ok = atoiCheck16(f[2]); !ok {
			return nil, errors.New("bad MX preference")
		}
	}
	if len(f) == 1 {
		// mx-target, or this machine's name: known once every line is read.
		p.c.mxDefault = append(p.c.mxDefault, mx)
	} else if !dataName(f[1]) {
		return nil, bad
	} else {
		mx.Mx = Presentation(f[1])
	}
	p.c.MXHosts = append(p.c.MXHosts, name)
	return mx, nil
}

// srvHost builds the record of a srv-host line.
func srvHost(p *parser, name string, f []string, val string, bad error) (dns.RR, error) {
	// dnsmasq's defaults: target ".", port 1, priority 0, weight 0.
	s := &dns.SRV{Hdr: Hdr(name, dns.TypeSRV), Target: ".", Port: 1}
	if len(f) >= 2 {
		if !dataName(f[1]) {
			return nil, errors.New("bad SRV target")
		}
		s.Target = Presentation(f[1])
	}
	for i, dst := range []*uint16{&s.Port, &s.Priority, &s.Weight} {
		if len(f) > i+2 {
			n, ok := atoiCheck16(f[i+2])
			if !ok {
				return nil, errors.New([]string{"invalid port number", "invalid priority", "invalid weight"}[i])
			}
			*dst = n
		}
	}
	return s, nil
}

// ptrRecord builds the record of a ptr-record line.
func ptrRecord(p *parser, name string, f []string, val string, bad error) (dns.RR, error) {
	// Without a target the record points to the root.
	ptr := &dns.PTR{Hdr: Hdr(name, dns.TypePTR), Ptr: "."}
	if len(f) == 2 {
		if !dataName(f[1]) {
			return nil, bad
		}
		ptr.Ptr = Presentation(f[1])
	}
	return ptr, nil
}

// naptrRecord builds the record of a naptr-record line.
func naptrRecord(p *parser, name string, f []string, val string, bad error) (dns.RR, error) {
	if len(f) < 6 {
		return nil, bad
	}
	order, ok1 := atoiCheck16(f[1])
	pref, ok2 := atoiCheck16(f[2])
	if !ok1 || !ok2 {
		return nil, bad
	}
	n := &dns.NAPTR{Hdr: Hdr(name, dns.TypeNAPTR), Order: order, Preference: pref, Flags: charString(f[3]), Service: charString(f[4]), Regexp: charString(f[5]), Replacement: "."}
	if len(f) == 7 {
		if !dataName(f[6]) {
			return nil, bad
		}
		n.Replacement = Presentation(f[6])
	}
	return n, nil
}

// caaRecord builds the record of a caa-record line.
func caaRecord(p *parser, name string, f []string, val string, bad error) (dns.RR, error) {
	if len(f) != 4 {
		return nil, bad
	}
	fl, ok := atoiCheck(f[1])
	if !ok {
		return nil, bad
	}
	// dnsmasq stores the flags in one byte.
	return &dns.CAA{Hdr: Hdr(name, dns.TypeCAA), Flag: uint8(fl), Tag: wireText(f[2]), Value: wireText(f[3])}, nil
}

// dnsRR builds the record of a dns-rr line.
func dnsRR(p *parser, name string, f []string, val string, bad error) (dns.RR, error) {
	if len(f) < 2 {
		return nil, bad
	}
	t, ok := atoiCheck(f[1])
	if !ok {
		return nil, bad
	}
	if t < 0 || t > 65535 {
		// dnsmasq keeps the number and answers it only to ANY, with
		// its low 16 bits as the type: a documented difference.
		return nil, errors.New("bad RR record: the type must be 0 to 65535")
	}
	var data []byte
	if len(f) == 3 {
		var err error
		if data, err = parseHex(f[2]); err != nil {
			return nil, bad
		}
	}
	return &dns.RFC3597{Hdr: Hdr(name, uint16(t)), Rdata: hex.EncodeToString(data)}, nil
}

// Presentation turns a name as written in dnsmasq.conf (where a label may
// hold any character, for example a space in DNS-SD names) into a fully
// qualified name in presentation format, lower case like dnsmasq's.
func Presentation(s string) string {
	s = strings.ToLower(strings.Trim(s, "."))
	if s == "" {
		return "."
	}
	return escapeName(s) + "."
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
