package dnssec

import (
	"strings"

	"github.com/miekg/dns"
)

// rrSet is one RRset of a section with the RRSIGs that cover it.
type rrSet struct {
	rrs  []dns.RR
	sigs []*dns.RRSIG
}

// rrsets groups a section into RRsets (name, class, type), RRSIGs going to
// the set they cover.
func rrsets(section []dns.RR) []*rrSet {
	type key struct {
		name  string
		class uint16
		rtype uint16
	}
	var order []key
	m := map[key]*rrSet{}
	get := func(k key) *rrSet {
		s := m[k]
		if s == nil {
			s = &rrSet{}
			m[k] = s
			order = append(order, k)
		}
		return s
	}
	for _, rr := range section {
		h := rr.Header()
		if h.Rrtype == dns.TypeOPT {
			continue
		}
		if sig, ok := rr.(*dns.RRSIG); ok {
			s := get(key{strings.ToLower(h.Name), h.Class, sig.TypeCovered})
			s.sigs = append(s.sigs, sig)
			continue
		}
		s := get(key{strings.ToLower(h.Name), h.Class, h.Rrtype})
		s.rrs = append(s.rrs, rr)
	}
	out := make([]*rrSet, 0, len(order))
	for _, k := range order {
		if s := m[k]; len(s.rrs) > 0 {
			out = append(out, s)
		}
	}
	return out
}
