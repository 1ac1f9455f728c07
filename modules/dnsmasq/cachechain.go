package dnsmasq

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
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

// overLocal reports whether caching the reply a to (name, qtype) would
// put a record over a local entry of dnsmasq's cache: a CNAME of the chain
// owned by a name with hosts or host-record addresses or a cname line, or
// by a name with an empty non-terminal entry (localStore.parents), or
// an address (or NODATA) of type qtype for the end of the chain where that
// name has hosts addresses of that type other than the answered ones. The
// failed insertion drops the whole reply from the cache (cache.c
// cache_scan_free, cache_insert: insert_error); owners are the names whose
// CNAMEs were inserted before it, which have freed those names' records,
// and atEnd says that it failed at the end's record (after the SOA of a
// negative answer was inserted, freeing the one cached before).
func (r *resolver) overLocal(name string, qtype uint16, a answer) (owners map[string]bool, conflict, atEnd bool) {
	owners = map[string]bool{}
	for i := 0; i <= maxChain; i++ {
		nd := r.store.names[name]
		next := ""
		for _, rr := range a.answer {
			h := rr.Header()
			if !strings.EqualFold(strings.TrimSuffix(h.Name, "."), name) {
				continue
			}
			if c, ok := rr.(*dns.CNAME); ok {
				if r.zeroTTLFails(h.Ttl) {
					// really_insert fails it before it looks for a local
					// record: insertFails has the owners before it.
					return owners, false, false
				}
				if nd != nil && (len(nd.addrs) > 0 || nd.cname != nil) || r.store.parents[name] {
					return owners, true, false
				}
				owners[name+"."] = true
				next = canon(c.Target)
				break
			}
		}
		if next == "" {
			// Any record (or NODATA) for a name with a cname line meets
			// that line's cache record (cache_scan_free: F_CNAME).
			conflict = nd != nil && nd.cname != nil ||
				a.rcode == dns.RcodeSuccess && nd != nil && nd.addrsOverridden(qtype, name, a.answer)
			return owners, conflict, conflict
		}
		name = next
	}
	return owners, false, false
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

// addrsOverridden reports whether nd has hosts addresses of type qtype (A
// or AAAA) and the answer records of that type owned by name are not all
// the first of them (none at all: a NODATA). dnsmasq's insertion of an
// address meets the name's first hosts record of the type in its hash
// chain (cache.c cache_scan_free returns it) and keeps it only when the
// address is the same; any other fails the whole insertion (measured: a
// name in two hosts files keeps the upstream's address of the file read
// first, refuses the other's).
func (nd *node) addrsOverridden(qtype uint16, name string, rrs []dns.RR) bool {
	first, ok := nd.firstAddr(qtype)
	if !ok {
		return false
	}
	found := false
	for _, rr := range rrs {
		if rr.Header().Rrtype != qtype || !strings.EqualFold(strings.TrimSuffix(rr.Header().Name, "."), name) {
			continue
		}
		found = true
		if a, _ := exchange.RRAddr(rr); a != first {
			return true
		}
	}
	return !found
}

// firstAddr is nd's first hosts address of type qtype, the one dnsmasq's
// cache finds first; ok is false when it has none (or qtype is not an
// address type).
func (nd *node) firstAddr(qtype uint16) (netip.Addr, bool) {
	if nd == nil || qtype != dns.TypeA && qtype != dns.TypeAAAA {
		return netip.Addr{}, false
	}
	for _, h := range nd.addrs {
		if typeOf(h.Addr) == qtype {
			return h.Addr, true
		}
	}
	return netip.Addr{}, false
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

// chainInserted reports whether dnsmasq inserts the CNAMEs of a reply to a
// qtype question in its cache: for A, AAAA, SRV and the cache-rr types,
// never for CNAME or PTR questions (rfc1035.c extract_addresses).
func (r *resolver) chainInserted(qtype uint16) bool {
	switch qtype {
	case dns.TypeA, dns.TypeAAAA, dns.TypeSRV:
		return true
	case dns.TypeCNAME, dns.TypePTR:
		return false
	}
	return slices.Contains(r.cfg.CacheRR, qtype) || slices.Contains(r.cfg.CacheRR, dns.TypeANY)
}

// insertFails does to the cache what dnsmasq's insertion of a reply does
// when nothing of it is kept, and reports whether that is so. dnsmasq
// inserts a chain's records one by one: the first with a TTL of 0 fails
// the insertion (nothing is committed), and the CNAMEs inserted before it
// have already freed their owners' records (cache.c really_insert,
// cache_scan_free). With no-negcache, a negative answer's chain is
// inserted and its last CNAME points at no record: outdated, with the
// records its owner had (is_outdated_cname_pointer).
//
// Over TCP nothing is freed: dnsmasq's TCP child frees records in its own
// copy of the cache, and sends the parent only what it inserted.
func (r *resolver) insertFails(qtype uint16, a answer, negative, tcp bool) bool {
	inserted := r.chainInserted(qtype)
	if owners, zero := ownersBeforeZeroTTL(a.answer); zero && inserted && r.zeroTTLFails(0) {
		if !tcp {
			r.cache.dropThrough(owners)
		}
		return true
	}
	if negative && r.cfg.NoNegcache {
		if last := lastCNAMEOwner(a.answer); inserted && last != "" && !tcp {
			r.cache.dropThrough(map[string]bool{last: true})
		}
		return true
	}
	return false
}

// zeroTTLFails reports whether dnsmasq's insertion of a record with ttl
// (as the reply has it) fails: a TTL of 0 after min-cache-ttl, unless
// use-stale-cache keeps expired records (cache.c really_insert: "we don't
// cache zero-TTL records unless we're doing stale-caching").
func (r *resolver) zeroTTLFails(ttl uint32) bool {
	return max(ttl, r.cfg.MinCacheTTL) == 0 && !r.cfg.UseStale
}

// ownersBeforeZeroTTL are the owners (lower case) of the CNAMEs of rrs
// that come before the first record with a TTL of 0; zero says whether
// there is one.
func ownersBeforeZeroTTL(rrs []dns.RR) (owners map[string]bool, zero bool) {
	owners = map[string]bool{}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Ttl == 0 {
			return owners, true
		}
		if h.Rrtype == dns.TypeCNAME {
			owners[strings.ToLower(h.Name)] = true
		}
	}
	return owners, false
}

// lastCNAMEOwner is the owner (lower case) of the last CNAME of rrs; "" if
// none.
func lastCNAMEOwner(rrs []dns.RR) string {
	for i := len(rrs) - 1; i >= 0; i-- {
		if rrs[i].Header().Rrtype == dns.TypeCNAME {
			return strings.ToLower(rrs[i].Header().Name)
		}
	}
	return ""
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
