package dnsmasq

import (
	"strings"

	"github.com/miekg/dns"
)

// maxChain bounds the CNAMEs followed through the cache.
const maxChain = 10

// cachedChain answers req from the cache through the CNAMEs cached from
// earlier answers: the chain, then the target's cached answer for the type
// (records or NODATA), as dnsmasq's answer_request does. It reports false
// when a step is missing (the query is then forwarded). Such answers are
// never authoritative.
func (r *Resolver) cachedChain(req *dns.Msg, validate bool) (answer, bool) {
	q := req.Question[0]
	owner := strings.ToLower(dns.Fqdn(q.Name))
	var chain []dns.RR
	for i := 0; i < maxChain; i++ {
		rcode, ans, _, _, st, ok := r.cache.lookup(owner, dns.TypeCNAME, false, -1)
		if !ok || rcode != dns.RcodeSuccess || !r.cacheUsable(req, st, validate) {
			break
		}
		var next string
		for _, rr := range ans {
			if c, isC := rr.(*dns.CNAME); isC && strings.EqualFold(c.Hdr.Name, owner) {
				if len(chain) == 0 {
					c.Hdr.Name = q.Name // the question's spelling
				}
				chain = append(chain, c)
				next = strings.ToLower(c.Target)
				break
			}
		}
		if next == "" {
			break
		}
		owner = next
	}
	if len(chain) == 0 {
		return answer{}, false
	}
	rcode, ans, ns, _, st, ok := r.cache.lookup(owner, q.Qtype, !r.cfg.NoRoundRobin, -1)
	if !ok || rcode != dns.RcodeSuccess || !r.cacheUsable(req, st, validate) {
		return answer{}, false
	}
	a := answer{rcode: dns.RcodeSuccess, answer: append(chain, ans...), ns: ns, source: "cache"}
	r.capAll(a.answer)
	r.capAll(a.ns)
	return a, true
}

// withNXSOA gives a local answer the SOA of an NXDOMAIN the cache holds for
// the end of its CNAME chain (the name itself without one): a name with
// only PTR or dns-rr data, or the target of a cname, that a query of
// another type found missing upstream. dnsmasq's answer_request looks for
// cached CNAMEs and NXDOMAINs first and puts the SOA of the NXDOMAIN it
// met into the authority section of whatever it then answers, the rcode
// unchanged (rfc1035.c answer_request, soa_lookup).
func (r *Resolver) withNXSOA(a answer, qname, name string) answer {
	if a.rcode != dns.RcodeSuccess || len(a.ns) > 0 {
		return a
	}
	end := chainEnd(name, a.answer)
	rcode, _, ns, ok := r.cache.peek(cacheKey{dns.Fqdn(end), 0})
	if !ok || rcode != dns.RcodeNameError || len(ns) == 0 {
		return a
	}
	if end == name {
		echoCase(ns, qname, true) // its owner is a suffix of the question
	}
	r.capAll(ns)
	a.ns = ns
	return a
}

// cachedCNAMEEnd is the end of the chain of CNAMEs the cache holds from
// name (lower case, no trailing dot), lower case without the trailing dot;
// name when it holds none. Over TCP, dnsmasq 2.90 looks the domain table
// up for that name rather than the question's: answer_request leaves the
// chain's end in the name buffer that tcp_request then uses
// (forward.c tcp_request; receive_query extracts the name again).
func (r *Resolver) cachedCNAMEEnd(name string) string {
	for i := 0; i < maxChain; i++ {
		rcode, ans, _, ok := r.cache.peek(cacheKey{dns.Fqdn(name), dns.TypeCNAME})
		if !ok || rcode != dns.RcodeSuccess || len(ans) == 0 {
			break
		}
		c, isC := ans[0].(*dns.CNAME)
		if !isC {
			break
		}
		name = canon(c.Target)
	}
	return name
}

// chainTooLong reports whether the CNAME chain from name (lower case, no
// trailing dot) in rrs has more than maxChain links: a loop, or a chain
// dnsmasq does not follow (CNAME_CHAIN in config.h).
func chainTooLong(name string, rrs []dns.RR) bool {
	for i := 0; i <= maxChain; i++ {
		next := ""
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(strings.TrimSuffix(c.Hdr.Name, "."), name) {
				next = canon(c.Target)
				break
			}
		}
		if next == "" {
			return false
		}
		name = next
	}
	return true
}

// cnameOverLocal reports whether rrs hold a CNAME owned by a name with
// hosts or host-record addresses or a cname line: dnsmasq cannot cache it
// over those entries, and the failed insertion drops the whole reply from
// the cache (cache.c cache_scan_free, cache_insert: insert_error).
func (r *Resolver) cnameOverLocal(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok {
			if nd := r.store.names[canon(c.Hdr.Name)]; nd != nil && (len(nd.addrs) > 0 || nd.cname != nil) {
				return true
			}
		}
	}
	return false
}
