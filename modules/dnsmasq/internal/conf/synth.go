package conf

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
)

// SynthDomain is one synth-domain= line: names under Domain for the
// addresses from Start to End, either "<prefix><address with dashes>" or,
// when Seq, "<prefix><decimal index from Start>".
type SynthDomain struct {
	Domain     string // lower case, no dots at the ends
	Written    string // the domain as written, for PTR targets
	Start, End netip.Addr
	Prefix     string // as written, without the trailing *
	Seq        bool
}

// parseSynth reads <domain>,<start>,<end>[,<prefix>[*]] or
// <domain>,<ip>/<len>[,<prefix>[*]].
func parseSynth(val string) (SynthDomain, error) {
	bad := errors.New("bad argument to --synth-domain")
	f := strings.Split(val, ",")
	if len(f) < 2 || !ValidName(f[0]) || strings.Contains(f[0], "*") {
		return SynthDomain{}, bad
	}
	s := SynthDomain{Domain: NameKey(f[0]), Written: strings.Trim(f[0], ".")}
	rest := f[2:]
	if strings.Contains(f[1], "/") {
		pfx, err := netip.ParsePrefix(f[1])
		if err != nil {
			return SynthDomain{}, bad
		}
		if pfx.Addr().Zone() != "" {
			return SynthDomain{}, bad
		}
		pfx = pfx.Masked()
		s.Start = pfx.Addr()
		s.End = lastAddr(pfx)
	} else {
		if len(f) < 3 {
			return SynthDomain{}, bad
		}
		a, err1 := ParseAddr(f[1])
		b, err2 := ParseAddr(f[2])
		if err1 != nil || err2 != nil || a.Unmap().Is4() != b.Unmap().Is4() || a.Zone() != "" || b.Zone() != "" {
			return SynthDomain{}, bad
		}
		s.Start, s.End = a.Unmap(), b.Unmap()
		if s.End.Less(s.Start) {
			return SynthDomain{}, bad
		}
		rest = f[3:]
	}
	if len(rest) > 1 {
		return SynthDomain{}, bad
	}
	if len(rest) == 1 {
		p := rest[0]
		if strings.HasSuffix(p, "*") {
			s.Seq = true
			p = p[:len(p)-1]
		}
		for _, c := range p {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return SynthDomain{}, bad
			}
		}
		s.Prefix = p
	}
	if s.Seq && s.Start.Is6() {
		// dnsmasq 2.90 needs the sequential IPv6 form as a prefix of at
		// least /64 (it rejects start,end too: measured).
		pfx, err := netip.ParsePrefix(f[1])
		if err != nil || pfx.Bits() < 64 {
			return SynthDomain{}, errors.New("prefix length too small")
		}
	}
	return s, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr()
	bits := p.Bits()
	if a.Is4() {
		b := a.As4()
		v := binary.BigEndian.Uint32(b[:]) | uint32(uint64(1)<<(32-bits)-1)
		binary.BigEndian.PutUint32(b[:], v)
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	for i := bits; i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom16(b)
}

// optSynthDomain parses synth-domain.
func optSynthDomain(p *parser, o arg) error { return appendParsed(&p.c.Synth, o, parseSynth) }
