package dnsmasq

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/dnssec"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// This file holds what becomes of a forwarded reply in the cache: which
// parts dnsmasq's insertion keeps (rfc1035.c extract_addresses, cache.c
// really_insert), what a refused insertion still frees, and how a TCP
// child's inserts reach the parent.

// cacheReply stores a forwarded reply. ttl overrides the computed TTL when
// not 0.
func (r *resolver) cacheReply(name string, qtype uint16, a answer, ttl uint32, tcp bool) {
	if r.cache == nil || a.rcode != dns.RcodeSuccess && a.rcode != dns.RcodeNameError {
		return
	}
	if !tcp {
		// (Over TCP the parent begins one only when the child sends it
		// what it inserted: below.)
		r.cache.startInsert() // rfc1035.c extract_addresses
	}
	if r.refusedByCache(name, qtype, a, tcp) {
		return
	}
	a.answer, a.ns = r.clampTTLs(a.answer), r.clampTTLs(a.ns)
	// Negative: NXDOMAIN, or no record of the type (a CNAME chain may
	// lead to NODATA).
	negative := a.rcode == dns.RcodeNameError || !slices.ContainsFunc(a.answer, func(rr dns.RR) bool {
		return rr.Header().Rrtype == qtype || qtype == dns.TypeCNAME && rr.Header().Rrtype == dns.TypeCNAME
	})
	if r.insertFails(qtype, a, negative, tcp) {
		return
	}
	if !r.cachesAnswerTo(name, qtype, a.rcode) {
		if qtype == dns.TypePTR && negative && !r.cfg.NoNegcache {
			// The answer is not, but its zone's SOA is (rfc1035.c
			// extract_addresses calls find_soa for any PTR question).
			r.cacheZoneSOA(chainEnd(name, a.answer), a.ns, a.cacheStatus())
		}
		return
	}
	if a.rcode == dns.RcodeNameError && !r.chainInserted(qtype) && lastCNAMEOwner(a.answer) != "" {
		// A question whose chain dnsmasq does not cache: of an NXDOMAIN
		// only the end's record is, under the end's name (rfc1035.c
		// extract_addresses: "Can store NXDOMAIN reply for any qtype").
		name, a.answer = chainEnd(name, a.answer), nil
	}
	if ttl = r.cacheTTL(name, &a, negative, ttl); ttl == 0 {
		return
	}
	if tcp {
		r.cache.startInsert() // cache.c cache_recv_insert
		if lastCNAMEOwner(a.answer) != "" {
			r.cacheTCPChain(name, qtype, a, ttl, negative, a.cacheStatus())
			return
		}
	}
	r.storeReply(name, qtype, a, ttl, negative)
}

// storeReply caches a reply that dnsmasq's insertion keeps for ttl
// seconds: the question's own entry and the records of the chain's names
// under their own (cacheNegativeParts, cachePositiveParts).
func (r *resolver) storeReply(name string, qtype uint16, a answer, ttl uint32, negative bool) {
	k := cacheKey{dns.Fqdn(name), qtype}
	if a.rcode == dns.RcodeNameError && qtype != dns.TypePTR {
		// An NXDOMAIN answers every type of the name; a PTR one is cached
		// by address (F_REVERSE) and answers PTR queries only
		// (rfc1035.c extract_addresses).
		k.qtype = 0
	}
	st := a.cacheStatus()
	// The question's own entry lives no longer than the CNAMEs that lead to
	// the negative answer of the target: dnsmasq answers it through their
	// cache records (rfc1035.c answer_request follows them), the target's
	// entry keeping the negative TTL.
	qttl := ttl
	for _, rr := range a.answer {
		if negative && rr.Header().Rrtype == dns.TypeCNAME {
			qttl = min(qttl, rr.Header().Ttl)
		}
	}
	// A chain that ends at addresses the end's hosts entries have has no
	// entry of its own either: its last CNAME points at the hosts record
	// (really_insert keeps it), which answers with aa (cachedChain).
	toHosts := !negative && lastCNAMEOwner(a.answer) != "" && len(r.insertedAt(dns.Fqdn(chainEnd(name, a.answer)), qtype, a.answer)) == 0
	if qttl > 0 && !toHosts {
		r.cache.putStatus(k, a.rcode, dnssec.Strip(a.answer, qtype), dnssec.Strip(a.ns, qtype), qttl, st)
	}
	if negative {
		r.cacheNegativeParts(name, qtype, a, ttl, st)
		return
	}
	r.cachePositiveParts(name, qtype, a, st)
}

// cacheTCPChain caches a CNAME chain answered over TCP as dnsmasq's parent
// process gets it from the child that answered: the child sends the
// records it inserted last first (cache.c cache_end_insert), and the
// parent links each CNAME to the last other record it received before it
// (cache_recv_insert). So every CNAME of the chain leads to the end's
// first record: to the end, or for a negative end with its zone's SOA to
// the SOA's owner (a dead end: answerCache.relink). The question has no
// entry of its own: it is answered through the CNAMEs. When no record of
// the end was inserted (addresses its hosts entries have already:
// really_insert keeps those), the CNAMEs lead nowhere and go at once,
// having freed their owners' records.
func (r *resolver) cacheTCPChain(name string, qtype uint16, a answer, ttl uint32, negative bool, st cacheDNSSEC) {
	owners := cnameOwners(a.answer)
	// Each CNAME's insertion frees its owner's records: the parent's
	// answers for those names, and the chains cached through them, go.
	r.cache.dropOwned(owners)
	end := dns.Fqdn(chainEnd(name, a.answer))
	target, deadEnd := end, false
	if negative {
		r.cacheNegativeParts(name, qtype, a, ttl, st)
		if len(a.ns) > 0 {
			target, deadEnd = a.ns[0].Header().Name, true
		}
		r.cache.relink(owners, target, deadEnd)
		return
	}
	recs := r.insertedAt(end, qtype, a.answer)
	if len(recs) == 0 {
		return
	}
	r.cachePositiveParts(name, qtype, a, st)
	r.cache.relink(owners, target, deadEnd)
}

// insertedAt are the records of type qtype owned by end (fully qualified)
// in rrs that dnsmasq's insertion adds to its cache: not the address of
// end's first hosts record of the type (cache.c really_insert returns
// that record; see node.addrsOverridden).
func (r *resolver) insertedAt(end string, qtype uint16, rrs []dns.RR) []dns.RR {
	first, local := r.store.names[canon(end)].firstAddr(qtype)
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != qtype || !strings.EqualFold(rr.Header().Name, end) {
			continue
		}
		if addr, ok := exchange.RRAddr(rr); ok && local && addr == first {
			continue
		}
		out = append(out, rr)
	}
	return out
}

// cacheStatus is the DNSSEC status an answer is cached with.
func (a *answer) cacheStatus() cacheDNSSEC {
	switch {
	case a.secure:
		return cacheSecure
	case a.validated:
		return cacheInsecure
	}
	return cacheUnvalidated
}

// refusedByCache reports whether nothing of a reply to (name, qtype) is
// cached: a CNAME loop ("looped CNAMES, we can't cache", rfc1035.c
// extract_addresses, CNAME_CHAIN) or a record over a local one (cache.c
// cache_insert's insert_error), where the CNAMEs inserted before it have
// freed their owners' records all the same (not over TCP, see below).
func (r *resolver) refusedByCache(name string, qtype uint16, a answer, tcp bool) bool {
	if chainTooLong(name, a.answer) {
		return true
	}
	if !r.chainInserted(qtype) {
		// No CNAME of the chain is inserted, only an NXDOMAIN for its
		// end: it fails over the end's cname line alone (F_CNAME), after
		// its SOA went in (dropSOAOf). Not a PTR question's: its negative
		// end is cached under an address (F_REVERSE), if at all, which no
		// cname line refuses (rfc1035.c extract_addresses' PTR path).
		nd := r.store.names[chainEnd(name, a.answer)]
		refused := qtype != dns.TypePTR && nd != nil && nd.cname != nil
		if refused && !tcp && a.rcode == dns.RcodeNameError && !r.cfg.NoNegcache {
			r.dropSOAOf(a.ns)
		}
		return refused
	}
	owners, conflict, atEnd := r.overLocal(name, qtype, a)
	if tcp {
		// dnsmasq's TCP child frees them in its own copy of the cache
		// only: a failed insertion sends the parent nothing.
		return conflict
	}
	if conflict {
		r.cache.dropThrough(owners)
	}
	negEnd := atEnd && !slices.ContainsFunc(a.answer, isType(qtype)) && !r.cfg.NoNegcache
	if negEnd {
		r.dropSOAOf(a.ns)
	}
	return conflict
}

// dropSOAOf frees the cached SOA of the zone of a negative reply whose
// end dnsmasq tried to cache but could not: the reply's SOA went in before
// it and freed the one cached (rfc1035.c find_soa), and went with the
// failed insertion.
func (r *resolver) dropSOAOf(ns []dns.RR) {
	for _, rr := range ns {
		if soa, ok := rr.(*dns.SOA); ok {
			r.cache.dropSOA(strings.ToLower(soa.Hdr.Name))
		}
	}
}

// clampTTLs returns copies of rrs with their TTLs clamped to
// [min-cache-ttl, max-cache-ttl]: cached records count down from there.
func (r *resolver) clampTTLs(rrs []dns.RR) []dns.RR {
	out := copyRRs(rrs)
	for _, rr := range out {
		h := rr.Header()
		if r.cfg.HasMaxCacheTTL && h.Ttl > r.cfg.MaxCacheTTL {
			h.Ttl = r.cfg.MaxCacheTTL
		}
		if h.Ttl < r.cfg.MinCacheTTL {
			h.Ttl = r.cfg.MinCacheTTL
		}
	}
	return out
}

// cachesAnswerTo reports whether dnsmasq 2.90 caches an answer with rcode
// to a question of qtype about name: A, AAAA, CNAME, SRV and PTR answers
// (and NODATA for them), the cache-rr types, and NXDOMAIN whatever the
// type (measured); not the answers to CNAME questions (the CNAMEs of the
// chains in other answers are; rfc1035.c extract_addresses), and PTR
// answers only for reverse names (cached by address, in_arpa_name_2_addr).
func (r *resolver) cachesAnswerTo(name string, qtype uint16, rcode int) bool {
	if rcode != dns.RcodeNameError && (!cacheable[qtype] && !slices.Contains(r.cfg.CacheRR, qtype) || qtype == dns.TypeCNAME) {
		return false
	}
	if qtype == dns.TypePTR {
		_, ok := reversePrefix(name)
		return ok
	}
	return true
}

// cacheTTL is how long an answer is cached: ttl when not 0, else the
// negative TTL (the SOA's, neg-ttl, or without an SOA the CNAMEs'; a
// negative answer then keeps only the SOA that ends its name) or the
// smallest TTL of its records, clamped to [min-cache-ttl, max-cache-ttl].
func (r *resolver) cacheTTL(name string, a *answer, negative bool, ttl uint32) uint32 {
	if ttl == 0 && negative {
		var soa dns.RR
		ttl, soa = negativeTTL(chainEnd(name, a.answer), a.ns, r.cfg.NegTTL)
		if soa == nil && ttl == 0 {
			// Without the zone's SOA, the CNAMEs' TTL (rfc1035.c).
			for _, rr := range a.answer {
				if rr.Header().Rrtype == dns.TypeCNAME && (ttl == 0 || rr.Header().Ttl < ttl) {
					ttl = rr.Header().Ttl
				}
			}
		}
		a.ns = nil
		if soa != nil {
			a.ns = []dns.RR{soa}
		}
	} else if ttl == 0 {
		ttl = minTTL(a.answer)
	}
	if r.cfg.HasMaxCacheTTL && ttl > r.cfg.MaxCacheTTL {
		ttl = r.cfg.MaxCacheTTL
	}
	return max(ttl, r.cfg.MinCacheTTL)
}

// cachePositiveParts caches, like dnsmasq, the address records and the
// records of the question's type of the other names in a positive answer
// (the targets of a CNAME chain: an SRV or cache-rr record is a cache
// record of its owner, as an address is) under their own names, and every
// CNAME of the chain under its owner (they answer CNAME queries).
func (r *resolver) cachePositiveParts(name string, qtype uint16, a answer, st cacheDNSSEC) {
	byOwner := map[cacheKey][]dns.RR{}
	for _, rr := range a.answer {
		h := rr.Header()
		other := !strings.EqualFold(h.Name, dns.Fqdn(name))
		if h.Rrtype == dns.TypeCNAME || other && (h.Rrtype == dns.TypeA || h.Rrtype == dns.TypeAAAA || h.Rrtype == qtype) {
			k := cacheKey{strings.ToLower(h.Name), h.Rrtype}
			byOwner[k] = append(byOwner[k], rr)
		}
	}
	for k, rrs := range byOwner {
		r.cache.putStatus(k, dns.RcodeSuccess, dnssec.Strip(rrs, k.qtype), nil, minTTL(rrs), st)
	}
}

// cacheNegativeParts caches what else a negative answer tells, as dnsmasq
// does: the answer is also the one of the last name of its CNAME chain
// (the chain's CNAMEs cached under their owners), and the zone's SOA (the
// one that set the TTL) answers SOA queries for its owner
// (rfc1035.c extract_addresses and find_soa).
func (r *resolver) cacheNegativeParts(name string, qtype uint16, a answer, ttl uint32, st cacheDNSSEC) {
	for _, rr := range a.answer {
		if c, ok := rr.(*dns.CNAME); ok {
			r.cache.putStatus(cacheKey{strings.ToLower(c.Hdr.Name), dns.TypeCNAME}, dns.RcodeSuccess, []dns.RR{c}, nil, c.Hdr.Ttl, st)
		}
	}
	target := dns.Fqdn(chainEnd(name, a.answer))
	if target != dns.Fqdn(name) {
		k := cacheKey{target, qtype}
		if a.rcode == dns.RcodeNameError {
			k.qtype = 0
		}
		r.cache.putStatus(k, a.rcode, nil, dnssec.Strip(a.ns, qtype), ttl, st)
	}
	r.cacheZoneSOA(target, a.ns, st)
}

// cacheZoneSOA caches the SOA of ns that ends name (fully qualified): it
// answers SOA queries for its owner and gives the zone's negative answers
// their SOA (rfc1035.c find_soa).
func (r *resolver) cacheZoneSOA(name string, ns []dns.RR, st cacheDNSSEC) {
	name = dns.Fqdn(strings.ToLower(name))
	for _, rr := range ns {
		if soa, ok := rr.(*dns.SOA); ok && strings.HasSuffix(name, strings.ToLower(soa.Hdr.Name)) {
			r.cache.putStatus(cacheKey{strings.ToLower(soa.Hdr.Name), dns.TypeSOA}, dns.RcodeSuccess, []dns.RR{soa}, nil, soa.Hdr.Ttl, st)
			return
		}
	}
}

// spelledAsAsked returns rrs with the records owned by the question's
// name spelled as the question spells it (copies, when one differs), as
// dnsmasq's cache names them: by the name it took from the reply's
// question section, which is the client's (rfc1035.c extract_addresses),
// whatever the upstream wrote in the answer section.
func spelledAsAsked(rrs []dns.RR, qname string) []dns.RR {
	var out []dns.RR
	for i, rr := range rrs {
		if h := rr.Header(); h.Name == qname || !strings.EqualFold(h.Name, qname) {
			continue
		}
		if out == nil {
			out = copyRRs(rrs)
		}
		out[i].Header().Name = qname
	}
	if out == nil {
		return rrs
	}
	return out
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
			// that line's cache record (cache_scan_free: F_CNAME), unless
			// an address meets the name's hosts addresses of its type
			// first: they decide (measured: a name with both keeps an
			// upstream address that is its first hosts one; an NXDOMAIN,
			// of no type, meets the cname line).
			_, hostsFirst := nd.firstAddr(qtype)
			hostsFirst = hostsFirst && a.rcode == dns.RcodeSuccess && slices.ContainsFunc(a.answer, isType(qtype))
			conflict = nd != nil && nd.cname != nil && !hostsFirst ||
				a.rcode == dns.RcodeSuccess && nd != nil && nd.addrsOverridden(qtype, name, a.answer)
			return owners, conflict, conflict
		}
		name = next
	}
	return owners, false, false
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
