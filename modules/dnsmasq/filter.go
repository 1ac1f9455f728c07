package dnsmasq

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// filter-A, filter-AAAA and filter-rr (dnsmasq 2.90 makes the first two
// filter-rr=A and filter-rr=AAAA) remove types from forwarded answers; the
// local data (hosts, host-record, the record options, address=) is never
// filtered. A question of a filtered type is still forwarded unless what
// dnsmasq holds about the name tells it the answer is NODATA.

// filters reports whether filter-rr removes qtype from answers (not ANY:
// filter-rr=ANY is its own rule, filterReply).
func (r *resolver) filters(qtype uint16) bool {
	return qtype != dns.TypeANY && slices.Contains(r.cfg.FilterRR, qtype)
}

// filteredAnswer answers a question of a filtered type from the cache and
// the local addresses, without forwarding it (rfc1035.c answer_request):
// the CNAMEs cached for the name are followed; at the end of the chain, an
// answer of the type cached from upstream is NODATA (with EDE 17, Filtered,
// for A and AAAA), and so is a name with any other data: hosts addresses or
// anything cached for it (records or NODATA of another type, a CNAME, its
// zone's SOA). A cached negative answer of the type is the cache's to give;
// a name nothing is known of is forwarded. Such answers are never
// authoritative, and carry the SOA of an NXDOMAIN cached for the chain's
// end only. fqdn is lower case.
func (r *resolver) filteredAnswer(req *dns.Msg, fqdn string, qtype uint16, tcp bool) (answer, bool) {
	q := req.Question[0]
	if !r.filters(qtype) || q.Qclass != dns.ClassINET {
		return answer{}, false
	}
	validate := r.validator != nil
	owner, chain, ok := r.filteredChain(req, fqdn, qtype, validate)
	if !ok {
		return answer{}, false
	}
	if nd := r.store.names[strings.TrimSuffix(owner, ".")]; len(chain) > 0 && nd != nil && len(r.localData(nd, owner, qtype, netip.Prefix{})) > 0 {
		return answer{}, false // local data at the end of the chain: never filtered
	}
	a := answer{rcode: dns.RcodeSuccess, answer: chain, source: sourceCache, ede: dns.ExtendedErrorCodeFiltered}
	rcode, ans, _, _, st, cached := r.cache.lookup(owner, qtype, false, -1)
	if k, ok, applies := r.rrLookup(owner, qtype, tcp); applies && rcode == dns.RcodeNameError {
		// The name has a cached NXDOMAIN and F_RR records too: dnsmasq's
		// generic lookup meets them in its chain's order (cacheorder.go)
		// before the filter's rule. An NXDOMAIN met first answers; an
		// F_RR record (another type's) leaves it to the rule: NODATA.
		if ok && k.qtype == 0 {
			return r.filteredNX(q, a.answer, owner)
		}
		cached = false
	}
	usable := cached && r.cacheUsable(req, st, validate)
	switch {
	case cached && rcode != dns.RcodeSuccess && (usable || !r.cache.hasName(owner, r.cfg.CacheRR)):
		// NXDOMAIN: the cache's answer, or (DO) the question goes
		// upstream, unless the cache holds other data for the name,
		// which answers NODATA (measured).
		return answer{}, false
	case usable && !slices.ContainsFunc(ans, isType(qtype)):
		return answer{}, false // NODATA: the cache's answer, with its SOA
	case usable:
		// Filtered on the way out of the cache; the chain stays. Only the
		// address types say so (the other types are "config" NODATA).
		a.answer = append(a.answer, slices.DeleteFunc(ans, func(rr dns.RR) bool { return r.filters(rr.Header().Rrtype) })...)
		if qtype != dns.TypeA && qtype != dns.TypeAAAA {
			a.ede = 0
		}
	case cached && rcode == dns.RcodeSuccess || r.hasAddrs(owner) || r.cache.hasName(owner, r.cfg.CacheRR):
		// (An answer the client cannot be given from the cache, DO set,
		// still tells that the name has data.)
	default:
		return answer{}, false
	}
	echoCase(a.answer, q.Name, false)
	r.capAll(a.answer)
	// An NXDOMAIN the cache holds for the chain's end, met first, lends
	// its SOA (answer_request's soa_lookup; the filtered record leaves it).
	return r.withNXSOA(a, q.Name, strings.TrimSuffix(fqdn, ".")), true
}

// filteredChain follows the cached CNAMEs from fqdn to the chain's end,
// which the filter applies to. It is not ok when a cached CNAME answers
// the question itself: a CNAME question gets it as it is, and one that
// cannot be given (DNSSEC) sends the question upstream.
func (r *resolver) filteredChain(req *dns.Msg, fqdn string, qtype uint16, validate bool) (owner string, chain []dns.RR, ok bool) {
	owner = fqdn
	for i := 0; i < maxChain; i++ {
		rcode, ans, _, _, st, found := r.cache.lookup(owner, dns.TypeCNAME, false, -1)
		if !found || rcode != dns.RcodeSuccess || len(ans) == 0 {
			break
		}
		if qtype == dns.TypeCNAME || !r.cacheUsable(req, st, validate) {
			return "", nil, false
		}
		c, isC := ans[0].(*dns.CNAME)
		if !isC {
			break
		}
		chain = append(chain, c)
		owner = strings.ToLower(dns.Fqdn(c.Target))
	}
	return owner, chain, true
}

// hasAddrs reports whether fqdn (lower case) has hosts or host-record
// addresses.
func (r *resolver) hasAddrs(fqdn string) bool {
	nd := r.store.names[strings.TrimSuffix(fqdn, ".")]
	return nd != nil && len(nd.addrs) > 0
}

func isType(t uint16) func(dns.RR) bool {
	return func(rr dns.RR) bool { return rr.Header().Rrtype == t }
}

// filterReply applies filter-rr to a forwarded answer (rrfilter.c, from
// forward.c process_reply), when its rcode is NOERROR: the filtered types
// leave the answer section (the authority and additional sections keep
// them); for ANY with filter-rr=ANY, every section keeps only A, AAAA, MX
// and CNAME records (and those of other classes), RFC 8482 4.3. Removing
// anything sets EDE 17 (Filtered).
func (r *resolver) filterReply(qtype uint16, a answer) answer {
	if a.rcode != dns.RcodeSuccess {
		return a
	}
	removed := false
	keep := func(rrs []dns.RR, drop func(dns.RR) bool) []dns.RR {
		if !slices.ContainsFunc(rrs, drop) {
			return rrs
		}
		removed = true
		return slices.DeleteFunc(slices.Clone(rrs), drop)
	}
	if qtype == dns.TypeANY && r.cfg.FilterANY {
		notANY := func(rr dns.RR) bool {
			switch h := rr.Header(); {
			case h.Class != dns.ClassINET:
				return false
			default:
				return h.Rrtype != dns.TypeA && h.Rrtype != dns.TypeAAAA && h.Rrtype != dns.TypeMX && h.Rrtype != dns.TypeCNAME
			}
		}
		a.answer, a.ns, a.extra = keep(a.answer, notANY), keep(a.ns, notANY), keep(a.extra, notANY)
	} else if len(r.cfg.FilterRR) > 0 {
		a.answer = keep(a.answer, func(rr dns.RR) bool {
			h := rr.Header()
			return h.Class == dns.ClassINET && slices.Contains(r.cfg.FilterRR, h.Rrtype)
		})
	}
	if removed {
		a.ede = dns.ExtendedErrorCodeFiltered
	}
	return a
}

// filteredNX is the answer of a filtered question whose end, owner, the
// cache holds an NXDOMAIN for, met first: the chain, NXDOMAIN and the
// zone's SOA as the cache holds it now.
func (r *resolver) filteredNX(q dns.Question, chain []dns.RR, owner string) (answer, bool) {
	_, _, ns, found := r.cache.peek(cacheKey{owner, 0})
	if !found {
		return answer{}, false
	}
	a := answer{rcode: dns.RcodeNameError, answer: chain, ns: r.currentSOA(ns), source: sourceCache}
	echoCase(a.answer, q.Name, false)
	r.capAll(a.answer)
	r.capAll(a.ns)
	return a, true
}
