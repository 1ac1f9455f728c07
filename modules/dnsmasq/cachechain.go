package dnsmasq

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// maxChain bounds the CNAMEs followed through the cache.
const maxChain = 10

// cachedChain answers req from the cache through the CNAMEs cached from
// earlier answers: the chain, then the target's cached answer for the type
// (records, NODATA or NXDOMAIN), as dnsmasq's answer_request does. It reports false
// when a step is missing (the query is then forwarded). Such answers are
// never authoritative.
func (r *resolver) cachedChain(req *dns.Msg, validate, tcp bool) (answer, bool) {
	q := req.Question[0]
	// (A dead-end CNAME leads to its SOA's owner: answerCache.relink.)
	chain, owner, spelled := r.followCachedCNAMEs(req, validate)
	if len(chain) == 0 {
		return answer{}, false
	}
	r.capAll(chain)
	// The target's local data (hosts, host-record, the record options)
	// answers as it would the target itself, aa included: the CNAMEs of
	// the cache do not clear it (rfc1035.c answer_request).
	// An NXDOMAIN cached for the target, met on the way, brings its SOA.
	if a, ok := r.local(spelled, strings.TrimSuffix(owner, "."), q.Qtype, netip.Prefix{}, req); ok && a.rcode == dns.RcodeSuccess && len(a.answer) > 0 {
		a.answer = append(chain, a.answer...)
		return r.withNXSOA(a, q.Name, canon(q.Name)), true
	}
	// The target's cached answer for the type, or its cached NXDOMAIN,
	// which answers every type: the chain, NXDOMAIN and the SOA
	// (answer_request's soa_lookup).
	// ANY takes only the NXDOMAIN from the cache: dnsmasq answers it with
	// local data alone.
	ltype := q.Qtype
	if k, ok, applies := r.rrLookup(owner, q.Qtype, tcp); applies {
		if !ok {
			return answer{}, false
		}
		ltype = k.qtype
	}
	rcode, ans, ns, _, st, ok := r.cache.lookup(owner, ltype, !r.cfg.NoRoundRobin, -1)
	if !ok || rcode != dns.RcodeSuccess && rcode != dns.RcodeNameError || !r.cacheUsable(req, st, validate) ||
		q.Qtype == dns.TypeANY && rcode == dns.RcodeSuccess {
		return answer{}, false
	}
	ns = r.currentSOA(ns)
	r.capAll(ans)
	r.capAll(ns)
	if len(ans) > 0 {
		spellTarget(chain, ans[0].Header().Name)
	}
	a := answer{rcode: rcode, answer: append(chain, ans...), ns: ns, source: sourceCache}
	return a, true
}

// spellTarget gives the last CNAME of chain (a copy from the cache) the
// target spelled as the record it leads to spells its owner: dnsmasq's
// cached CNAME points at that record, and writes its name (cache.c
// cache_get_cname_target), which the last insertion for the name spelled
// (really_insert reuses a freed target's record under the new spelling).
func spellTarget(chain []dns.RR, owner string) {
	if len(chain) == 0 {
		return
	}
	if c, ok := chain[len(chain)-1].(*dns.CNAME); ok && strings.EqualFold(c.Target, owner) {
		c.Target = owner
	}
}

// followCachedCNAMEs follows the CNAMEs the cache holds from req's name
// that req may use: the chain (its first owner spelled as asked), and its
// end (lower case, fully qualified) and as the last CNAME spells it.
func (r *resolver) followCachedCNAMEs(req *dns.Msg, validate bool) (chain []dns.RR, owner, spelled string) {
	q := req.Question[0]
	owner, spelled = strings.ToLower(dns.Fqdn(q.Name)), q.Name
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
				} else {
					spellTarget(chain, c.Hdr.Name)
				}
				chain = append(chain, c)
				next, spelled = strings.ToLower(c.Target), c.Target
				break
			}
		}
		if next == "" {
			break
		}
		owner = next
	}
	return chain, owner, spelled
}

// withNXSOA gives a local answer the SOA of an NXDOMAIN the cache holds for
// the end of its CNAME chain (the name itself without one): a name with
// only PTR or dns-rr data, or the target of a cname, that a query of
// another type found missing upstream. dnsmasq's answer_request looks for
// cached CNAMEs and NXDOMAINs first and puts the SOA of the NXDOMAIN it
// met into the authority section of whatever it then answers, the rcode
// unchanged (rfc1035.c answer_request, soa_lookup).
func (r *resolver) withNXSOA(a answer, qname, name string) answer {
	if a.rcode != dns.RcodeSuccess || len(a.ns) > 0 || a.negMet {
		return a
	}
	end := chainEnd(name, a.answer)
	rcode, _, ns, ok := r.cache.peek(cacheKey{dns.Fqdn(end), 0})
	if ns = r.currentSOA(ns); !ok || rcode != dns.RcodeNameError || len(ns) == 0 {
		return a
	}
	if end == name {
		echoCase(ns, qname, true) // its owner is a suffix of the question
	}
	r.capAll(ns)
	a.ns = ns
	return a
}

// cachedCNAMEEnd is the end of the chain of CNAMEs (cname lines and the
// cache's) from name (lower case, no trailing dot) that req may be
// answered with, lower case without the trailing dot; name when there is
// none. Over TCP,
// dnsmasq 2.90 looks the domain table up for that name rather than the
// question's: answer_request leaves the chain's end in the name buffer
// that tcp_request then uses (forward.c tcp_request; receive_query
// extracts the name again). A CNAME the query may not use (DO) stops it
// there: answer_request gives up before it copies the target.
func (r *resolver) cachedCNAMEEnd(name string, req *dns.Msg, validate bool) string {
	for i := 0; i < maxChain; i++ {
		if nd := r.store.names[name]; nd != nil && nd.cname != nil {
			// A cname line is a cache record of its own there.
			name = canon(nd.cname.Target)
			continue
		}
		rcode, ans, _, _, st, ok := r.cache.lookup(dns.Fqdn(name), dns.TypeCNAME, false, -1)
		if !ok || rcode != dns.RcodeSuccess || len(ans) == 0 || !r.cacheUsable(req, st, validate) {
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

// currentSOA is the SOA a cached negative answer (whose authority section
// was ns) carries now: the zone's SOA record as the cache holds it, none
// when it is gone. dnsmasq keeps the SOA as a cache record of its own that
// every negative answer of the zone shares (rfc1035.c answer_request looks
// it up by name), so one that was freed leaves them all without.
func (r *resolver) currentSOA(ns []dns.RR) []dns.RR {
	for _, rr := range ns {
		if soa, ok := rr.(*dns.SOA); ok {
			_, cur, _, found := r.cache.peek(cacheKey{strings.ToLower(soa.Hdr.Name), dns.TypeSOA})
			if !found || len(cur) == 0 {
				return nil
			}
			cur[0].Header().Name = soa.Hdr.Name // the owner as the answer spelled it
			return cur[:1]
		}
	}
	return ns
}

// cnameCached reports whether the cache holds a CNAME for name (lower
// case, no trailing dot). dnsmasq follows it before it looks at the name's
// own record lines (txt-record, mx-host, srv-host and the like), which it
// then never answers: its answer_request goes on with the target's name.
func (r *resolver) cnameCached(name string) bool {
	rcode, ans, _, ok := r.cache.peek(cacheKey{dns.Fqdn(name), dns.TypeCNAME})
	return ok && rcode == dns.RcodeSuccess && len(ans) > 0
}

// negativeChain reports whether a cached answer (rcode, ans) to a
// question of qtype about name (lower case, no trailing dot) is negative
// and reached through CNAMEs: NXDOMAIN or NODATA of the chain's end.
func negativeChain(name string, qtype uint16, rcode int, ans []dns.RR) bool {
	if qtype == dns.TypeCNAME || chainEnd(name, ans) == name {
		return false
	}
	return rcode == dns.RcodeNameError || !slices.ContainsFunc(ans, isType(qtype))
}

// rrLookup is dnsmasq's generic cache lookup (answerCache.rrOrder) for a
// question of qtype about name (lower case, fully qualified). CNAME
// questions never come to it: a cached NXDOMAIN answers them before. A
// question over TCP leaves the order as it was: dnsmasq answers it in a
// child process, whose cache is a copy.
func (r *resolver) rrLookup(name string, qtype uint16, tcp bool) (k cacheKey, ok, applies bool) {
	if qtype == dns.TypeCNAME {
		return cacheKey{}, false, false
	}
	return r.cache.rrOrder(name, qtype, !tcp)
}

// maxTTLWalked is how many of a forwarded answer's records (rrs, to a
// question of qtype about name) dnsmasq caps with max-ttl: extract_addresses
// scans them from the first for each link of the CNAME chain, capping each
// record it passes, and gives up a chain of more than CNAME_CHAIN links (a
// loop) where it stands; records past the furthest it got keep their TTLs.
func maxTTLWalked(name string, qtype uint16, rrs []dns.RR) int {
	if qtype == dns.TypeCNAME {
		return len(rrs) // one pass, no chain followed
	}
	walked, links := 0, maxChain
	for cur := name; ; {
		next := ""
		for j, rr := range rrs {
			walked = max(walked, j+1)
			if c, ok := rr.(*dns.CNAME); ok && c.Hdr.Class == dns.ClassINET && strings.EqualFold(c.Hdr.Name, cur) {
				if links == 0 {
					return walked
				}
				links--
				next = c.Target
				break
			}
		}
		if next == "" {
			return len(rrs)
		}
		cur = next
	}
}
