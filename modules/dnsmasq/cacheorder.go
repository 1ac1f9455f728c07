package dnsmasq

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// dnsmasq keeps a name's cache records in one hash chain, each record of
// its own, and its generic lookup (rfc1035.c answer_request's
// cache_find_by_name(name, F_RR | F_NXDOMAIN), for the question types not
// answered before it) finds two kinds at once: the name's NXDOMAIN and its
// "F_RR" records (SRV and the cache-rr types, records or NODATA). The two
// can live side by side: an NXDOMAIN, then a reply whose CNAME chain ends
// at the name without data (NODATA for the type asked). Which answers then
// depends on the chain's order, which every such lookup rotates:
//
//   - the lookup returns the last matching record in chain order, and moves
//     the first after the others (cache.c: round robin);
//   - from the returned record on, it looks back through the matching
//     records of the F_RR kind only: it stops at the NXDOMAIN;
//   - an NXDOMAIN returned first answers the question; an F_RR record of
//     the question's type answers it; else the question is forwarded.
//
// New records of a name go after its others (cache_hash: "preserve order
// when inserting the same name multiple times"). The answerCache keeps that
// order for each name's NXDOMAIN (type 0) and F_RR answers (order), and
// rrOrder plays the lookup.

// inRROrder reports whether an entry joins its name's order: its NXDOMAIN,
// or its data of a type dnsmasq keeps as F_RR records (not the address,
// CNAME, PTR and SOA records, which other lookups find); an answer through
// a CNAME is the CNAME's, not the name's.
func inRROrder(k cacheKey, answer []dns.RR) bool {
	switch k.qtype {
	case 0:
		return true
	case dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypePTR, dns.TypeSOA:
		return false
	}
	return !slices.ContainsFunc(answer, func(rr dns.RR) bool {
		return rr.Header().Rrtype == dns.TypeCNAME && strings.EqualFold(rr.Header().Name, k.name)
	})
}

// ordered records an entry's place in its name's order (the caller holds
// c.mu): last, as dnsmasq inserts a new record (the old one of its type
// is freed first).
func (c *answerCache) ordered(k cacheKey, answer []dns.RR) {
	if !inRROrder(k, answer) {
		return
	}
	if c.order == nil {
		c.order = map[string][]uint16{}
	}
	o := slices.DeleteFunc(c.order[k.name], func(t uint16) bool { return t == k.qtype })
	c.order[k.name] = append(o, k.qtype)
}

// remove deletes entry k and its place in its name's order (the caller
// holds c.mu and has taken it off c.ll).
func (c *answerCache) remove(k cacheKey) {
	delete(c.items, k)
	if o, ok := c.order[k.name]; ok {
		if o = slices.DeleteFunc(o, func(t uint16) bool { return t == k.qtype }); len(o) == 0 {
			delete(c.order, k.name)
		} else {
			c.order[k.name] = o
		}
	}
}

// rrOrder plays dnsmasq's generic lookup for a question of qtype about
// name (lower case, fully qualified) when the name has both a live
// NXDOMAIN and F_RR answers (applies; else the plain lookup stands): it
// returns the key of the entry that answers, or ok false when none does
// and the question goes upstream. With rotate, the lookup rotates the
// name's order, as dnsmasq's does, answered or not. An address question with a live answer
// of its type never comes to the generic lookup (answer_request answers
// it before).
func (c *answerCache) rrOrder(name string, qtype uint16, rotate bool) (k cacheKey, ok, applies bool) {
	if c == nil {
		return cacheKey{}, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.order[name]) < 2 {
		return cacheKey{}, false, false // the usual case, at no cost
	}
	now := c.now()
	live := func(t uint16) bool {
		el, found := c.items[cacheKey{name, t}]
		return found && now.Before(el.Value.(*cacheEntry).expires)
	}
	if (qtype == dns.TypeA || qtype == dns.TypeAAAA) && live(qtype) {
		return cacheKey{}, false, false
	}
	o := slices.DeleteFunc(slices.Clone(c.order[name]), func(t uint16) bool { return !live(t) })
	if len(o) < 2 || !slices.Contains(o, 0) {
		c.order[name] = o
		return cacheKey{}, false, false
	}
	if rotate {
		c.order[name] = append(slices.Clone(o[1:]), o[0])
	} else {
		c.order[name] = o
	}
	for i := len(o) - 1; i >= 0; i-- {
		t := o[i]
		switch {
		case t == 0 && i == len(o)-1:
			return cacheKey{name, 0}, true, true // the NXDOMAIN came first
		case t == 0:
			return cacheKey{}, false, true // the look back stops at it
		case t == qtype:
			return cacheKey{name, t}, true, true
		}
	}
	return cacheKey{}, false, true
}
