package dnsmasq

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// synthInRange reports whether a is between Start and End.
func synthInRange(s *conf.SynthDomain, a netip.Addr) bool {
	return a.Is4() == s.Start.Is4() && !a.Less(s.Start) && !s.End.Less(a)
}

// low64 is the low 64 bits of a (all of an IPv4 address).
func low64(a netip.Addr) uint64 {
	if a.Is4() {
		b := a.As4()
		return uint64(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[8:])
}

// forward turns the first label of a name under Domain into an address.
func synthForward(s *conf.SynthDomain, label string) (netip.Addr, bool) {
	if len(label) < len(s.Prefix) || !strings.EqualFold(label[:len(s.Prefix)], s.Prefix) {
		return netip.Addr{}, false
	}
	body := label[len(s.Prefix):]
	var a netip.Addr
	if s.Seq {
		// An empty number is index 0 (measured on 2.90: node.seq.lan).
		var n uint64
		if body != "" {
			var err error
			if n, err = strconv.ParseUint(body, 10, 64); err != nil || body[0] == '+' {
				return netip.Addr{}, false
			}
		}
		if s.Start.Is4() {
			v := low64(s.Start) + n
			if n > 1<<32 || v > 0xffffffff {
				return netip.Addr{}, false
			}
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], uint32(v))
			a = netip.AddrFrom4(b)
		} else {
			lo := low64(s.Start)
			if lo+n < lo {
				return netip.Addr{}, false
			}
			b := s.Start.As16()
			binary.BigEndian.PutUint64(b[8:], lo+n)
			a = netip.AddrFrom16(b)
		}
	} else if s.Start.Is4() {
		var err error
		if a, err = netip.ParseAddr(strings.ReplaceAll(body, "-", ".")); err != nil || !a.Is4() {
			return netip.Addr{}, false
		}
	} else {
		// A v4-mapped address is read from --ffff-1-2-3-4 (but not from
		// the 0--ffff-1-2-3-4 that dnsmasq 2.90 gives it as a PTR target:
		// measured; and only in lower case).
		var err error
		if v4, ok := strings.CutPrefix(body, "--ffff-"); ok && strings.Count(v4, "-") == 3 {
			a, err = netip.ParseAddr("::ffff:" + strings.ReplaceAll(v4, "-", "."))
		} else {
			a, err = netip.ParseAddr(strings.ReplaceAll(body, "-", ":"))
		}
		if err != nil {
			return netip.Addr{}, false
		}
		if !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, false
		}
	}
	if !synthInRange(s, a) {
		return netip.Addr{}, false
	}
	return a, true
}

// synthName is the synthetic name of a (which is in range), with a trailing dot.
func synthName(s *conf.SynthDomain, a netip.Addr) string {
	var label string
	if s.Seq {
		label = s.Prefix + strconv.FormatUint(low64(a)-low64(s.Start), 10)
	} else {
		t := strings.NewReplacer(".", "-", ":", "-").Replace(a.String())
		if s.Prefix == "" && strings.HasPrefix(t, "-") {
			t = "0" + t // a label cannot start with '-'
		}
		label = s.Prefix + t
	}
	return label + "." + s.Written + "."
}

// synth answers A, AAAA, ANY and PTR queries from synth-domain.
func (r *resolver) synth(owner, name string, qtype uint16) (answer, bool) {
	sds := r.cfg.Synth
	switch qtype {
	case dns.TypePTR:
		p, ok := reversePrefix(name)
		if !ok || p.Bits() != p.Addr().BitLen() {
			return answer{}, false
		}
		a := p.Addr()
		// dnsmasq keeps the lines in reverse order: the last line that
		// covers an address names it (measured on 2.90).
		for i := len(sds) - 1; i >= 0; i-- {
			if synthInRange(&sds[i], a) {
				rr := &dns.PTR{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: r.ttl(-1)}, Ptr: synthName(&sds[i], a)}
				return answer{rcode: dns.RcodeSuccess, aa: true, answer: []dns.RR{rr}, source: sourceLocal}, true
			}
		}
	case dns.TypeA, dns.TypeAAAA, dns.TypeANY:
		label, parent, ok := strings.Cut(name, ".")
		if !ok {
			return answer{}, false
		}
		if len(owner) > len(label) && owner[len(label)] == '.' {
			label = owner[:len(label)] // as asked: --ffff- is case-sensitive
		}
		for i := len(sds) - 1; i >= 0; i-- {
			if sds[i].Domain != parent {
				continue
			}
			a, ok := synthForward(&sds[i], label)
			if !ok {
				continue
			}
			if qtype != dns.TypeANY && qtype != typeOf(a) {
				return answer{}, false
			}
			return answer{rcode: dns.RcodeSuccess, aa: true, answer: []dns.RR{addrRR(owner, a, r.ttl(-1))}, source: sourceLocal}, true
		}
	}
	return answer{}, false
}
