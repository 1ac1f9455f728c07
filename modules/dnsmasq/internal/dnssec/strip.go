package dnssec

import "github.com/miekg/dns"

// isType reports whether t is a record type that only DNSSEC-aware
// clients get (RRSIG, NSEC, NSEC3).
func isType(t uint16) bool {
	return t == dns.TypeRRSIG || t == dns.TypeNSEC || t == dns.TypeNSEC3
}

// Strip returns rrs without RRSIG, NSEC and NSEC3 records (other than
// of qtype, when the client asked for that type).
func Strip(rrs []dns.RR, qtype uint16) []dns.RR {
	n := 0
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; isType(t) && t != qtype {
			n++
		}
	}
	if n == 0 {
		return rrs
	}
	out := make([]dns.RR, 0, len(rrs)-n)
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; !isType(t) || t == qtype {
			out = append(out, rr)
		}
	}
	return out
}
