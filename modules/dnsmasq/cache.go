package dnsmasq

import (
	"container/list"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// cacheKey names a cached answer. An NXDOMAIN is cached with qtype 0 and
// answers every type of the name, as dnsmasq does.
type cacheKey struct {
	name  string // lower case, fully qualified
	qtype uint16
}

type cacheEntry struct {
	key     cacheKey
	rcode   int
	answer  []dns.RR
	ns      []dns.RR
	stored  time.Time
	expires time.Time
	dnssec  cacheDNSSEC
	// deadEnd: a CNAME whose chain ended negative in a reply over TCP
	// (see answerCache.relink).
	deadEnd bool
	// orphaned: a dead end whose SOA was freed (dropSOA); it goes at the
	// next insertion (startInsert).
	orphaned bool
}

// cacheDNSSEC is the DNSSEC status of a cached answer. Answers cached
// without validation (before a reload turned dnssec on) are never given
// while dnssec is on.
type cacheDNSSEC uint8

const (
	cacheUnvalidated cacheDNSSEC = iota
	cacheInsecure
	cacheSecure
)

// answerCache holds forwarded answers, bounded to size entries (least recently
// used go first), with TTLs counting down from when they were stored. It is
// shared across config reloads.
type answerCache struct {
	mu    sync.Mutex
	size  int
	ll    *list.List
	items map[cacheKey]*list.Element
	order map[string][]uint16 // per name: its NXDOMAIN and F_RR answers in dnsmasq's order (cacheorder.go)
	// orphans are the dead ends dropSOA left for startInsert.
	orphans []cacheKey
	now     func() time.Time

	hits, misses, inserts, evictions uint64
}

func newCache(size int) *answerCache {
	return &answerCache{size: size, ll: list.New(), items: map[cacheKey]*list.Element{}, now: time.Now}
}

// SetSize changes the bound, dropping the oldest entries if needed.
func (c *answerCache) SetSize(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.size = n
	c.trim()
}

func (c *answerCache) trim() {
	for c.ll.Len() > c.size {
		e := c.ll.Back()
		c.ll.Remove(e)
		c.remove(e.Value.(*cacheEntry).key)
		c.evictions++
	}
}

// Flush empties the cache.
func (c *answerCache) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	c.items = map[cacheKey]*list.Element{}
	c.order, c.orphans = nil, nil
}

// Len is the number of cached answers.
func (c *answerCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// put stores an answer for ttl seconds.
func (c *answerCache) put(k cacheKey, rcode int, answer, ns []dns.RR, ttl uint32) {
	c.putStatus(k, rcode, answer, ns, ttl, cacheUnvalidated)
}

// putStatus is put with the answer's DNSSEC status.
func (c *answerCache) putStatus(k cacheKey, rcode int, answer, ns []dns.RR, ttl uint32, st cacheDNSSEC) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size <= 0 {
		return
	}
	// Whole seconds, as dnsmasq's clock (time(2)): an answer stored at
	// S.x seconds with TTL T expires at second S+T, not S.x+T, and its
	// TTL counts down at each second boundary (cache.c cache_insert
	// ttd = now + ttl, is_expired).
	now := c.now().Truncate(time.Second)
	e := &cacheEntry{key: k, rcode: rcode, answer: copyRRs(answer), ns: copyRRs(ns), stored: now, expires: now.Add(time.Duration(ttl) * time.Second), dnssec: st}
	c.ordered(k, answer)
	if el, ok := c.items[k]; ok {
		if was, now := ownerSpelling(el.Value.(*cacheEntry).answer, k.name), ownerSpelling(answer, k.name); was != "" && now != "" && was != now {
			c.respell(k.name, now)
		}
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(e)
	c.inserts++
	c.trim()
}

// ownerSpelling is how rrs spell name (lower case, fully qualified): the
// owner of the first record it owns; "" when it owns none.
func ownerSpelling(rrs []dns.RR, name string) string {
	for _, rr := range rrs {
		if h := rr.Header(); strings.EqualFold(h.Name, name) {
			return h.Name
		}
	}
	return ""
}

// respell gives name (lower case, fully qualified) the spelling spelled in
// the chains cached through it: the CNAMEs that lead to it and the records
// it owns there. dnsmasq's CNAME points at the target's record, which a
// new insertion for the name takes again under its own spelling (cache.c
// really_insert, target_crec), and writes that record's name. The caller
// holds c.mu.
func (c *answerCache) respell(name, spelled string) {
	for _, el := range c.items {
		through := false
		for _, rr := range el.Value.(*cacheEntry).answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Target, name) {
				cn.Target, through = spelled, true
			}
		}
		if !through {
			continue
		}
		for _, rr := range el.Value.(*cacheEntry).answer {
			if h := rr.Header(); h.Rrtype != dns.TypeCNAME && strings.EqualFold(h.Name, name) {
				h.Name = spelled
			}
		}
	}
}

// get returns a copy of a live entry with TTLs reduced by its age. With
// rotate, an answer made only of A or AAAA records of one name comes in a
// different order each time (dnsmasq's round robin).
func (c *answerCache) get(name string, qtype uint16, rotate bool) (rcode int, answer, ns []dns.RR, ok bool) {
	rcode, answer, ns, _, _, ok = c.lookup(name, qtype, rotate, -1)
	return
}

// lookup is get that, with stale >= 0 (use-stale-cache), also returns an
// answer that expired at most stale ago (any time ago when stale is 0),
// negative ones too (cache.c is_expired keeps every entry), with TTLs 0
// and isStale set; st is the answer's DNSSEC status.
func (c *answerCache) lookup(name string, qtype uint16, rotate bool, stale time.Duration) (rcode int, answer, ns []dns.RR, isStale bool, st cacheDNSSEC, ok bool) {
	if c == nil {
		return 0, nil, nil, false, cacheUnvalidated, false
	}
	name = lower(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	var now time.Time // read once an entry is found: a miss costs no clock
	for _, k := range []cacheKey{{name, qtype}, {name, 0}} {
		el, found := c.items[k]
		if !found {
			continue
		}
		if now.IsZero() {
			now = c.now()
		}
		e := el.Value.(*cacheEntry)
		fresh := e.expires
		if stale >= 0 {
			// With use-stale-cache, an answer is stale only after the
			// second it expires in (rfc1035.c crec_isstale: ttd < now).
			fresh = fresh.Add(time.Second)
		}
		if !now.Before(fresh) {
			if stale >= 0 && (stale == 0 || now.Sub(e.expires) <= stale) {
				isStale = true
			} else {
				c.ll.Remove(el)
				c.remove(k)
				continue
			}
		}
		c.ll.MoveToFront(el)
		if rotate && rotatable(e.answer) {
			e.answer = append(e.answer[1:len(e.answer):len(e.answer)], e.answer[0])
		}
		c.hits++
		metrics.cacheHit.Inc()
		age := uint32(now.Sub(e.stored) / time.Second)
		return e.rcode, aged(e.answer, age), aged(e.ns, age), isStale, e.dnssec, true
	}
	c.misses++
	metrics.cacheMiss.Inc()
	return 0, nil, nil, false, cacheUnvalidated, false
}

// namedTypes are the types cached under a name whatever the
// configuration: the answers to A, AAAA and SRV questions, the CNAMEs of
// chains and the SOA of negative answers. (PTR answers are cached by
// address in dnsmasq; NXDOMAIN, type 0, is not data of the name.)
var namedTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeSRV, dns.TypeSOA}

// hasName reports whether a live entry holds data for name (fully
// qualified, lower case): records or NODATA of one of namedTypes or of
// the cache-rr types extra (with ANY among them, of any type but PTR).
// It neither reorders the entries nor counts a hit: dnsmasq's
// cache_find_by_name for any forward record, and its
// cache_find_non_terminal (a name the cache holds anything but an
// NXDOMAIN for exists).
func (c *answerCache) hasName(name string, extra []uint16) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	live := func(k cacheKey) bool {
		el, ok := c.items[k]
		return ok && now.Before(el.Value.(*cacheEntry).expires)
	}
	if slices.Contains(extra, dns.TypeANY) {
		for k := range c.items {
			if k.name == name && k.qtype != 0 && k.qtype != dns.TypePTR && live(k) {
				return true
			}
		}
		return false
	}
	for _, types := range [][]uint16{namedTypes, extra} {
		for _, t := range types {
			if live(cacheKey{name, t}) {
				return true
			}
		}
	}
	return false
}

func copyRRs(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

// aged returns copies of rrs with TTLs reduced by age. Address and CNAME
// records are copied shallowly: the copy shares the IP or target with the
// cached record, and the reply path only ever changes headers.
func aged(rrs []dns.RR, age uint32) []dns.RR {
	if len(rrs) == 0 {
		return []dns.RR{}
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		switch v := rr.(type) {
		case *dns.A:
			c := *v
			out[i] = &c
		case *dns.AAAA:
			c := *v
			out[i] = &c
		case *dns.CNAME:
			c := *v
			out[i] = &c
		default:
			out[i] = dns.Copy(rr)
		}
	}
	for _, rr := range out {
		h := rr.Header()
		if h.Ttl > age {
			h.Ttl -= age
		} else {
			h.Ttl = 0
		}
	}
	return out
}

func rotatable(rrs []dns.RR) bool {
	if len(rrs) < 2 {
		return false
	}
	t, n := rrs[0].Header().Rrtype, rrs[0].Header().Name
	for _, rr := range rrs {
		if h := rr.Header(); h.Rrtype != t || h.Name != n || t != dns.TypeA && t != dns.TypeAAAA {
			return false
		}
	}
	return true
}

// peek returns the unexpired entry k, aged, without counting a hit or a
// miss or refreshing its place: it completes or steers an answer that does
// not come from the cache.
func (c *answerCache) peek(k cacheKey) (rcode int, answer, ns []dns.RR, ok bool) {
	if c == nil {
		return 0, nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.items[k]
	if !found {
		return 0, nil, nil, false
	}
	e := el.Value.(*cacheEntry)
	now := c.now()
	if !now.Before(e.expires) {
		return 0, nil, nil, false
	}
	age := uint32(now.Sub(e.stored) / time.Second)
	return e.rcode, aged(e.answer, age), aged(e.ns, age), true
}

// cnameOwners are the owners of the CNAMEs in rrs, lower case.
func cnameOwners(rrs []dns.RR) map[string]bool {
	owners := map[string]bool{}
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeCNAME {
			owners[strings.ToLower(rr.Header().Name)] = true
		}
	}
	return owners
}

// dropThrough removes every entry of the names in owners (fully
// qualified, lower case) and every answer with a CNAME from or to one of
// them. dnsmasq does so when a reply it then refuses to cache (a rebind)
// has begun to replace those names' records: inserting a CNAME frees the
// name's other records (cache.c cache_scan_free), the uncommitted ones go
// at the next insertion, and the CNAMEs that pointed at them are outdated
// (is_outdated_cname_pointer).
func (c *answerCache) dropThrough(owners map[string]bool) {
	c.dropTied(owners, func(_ cacheKey, cn *dns.CNAME) bool {
		return owners[strings.ToLower(cn.Hdr.Name)] || owners[strings.ToLower(cn.Target)]
	})
}

// dropTied removes every entry of the names in owners and every entry
// with a CNAME that tied says belongs with them.
func (c *answerCache) dropTied(owners map[string]bool, tied func(k cacheKey, cn *dns.CNAME) bool) {
	if c == nil || len(owners) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		hit := owners[k.name]
		for _, rr := range el.Value.(*cacheEntry).answer {
			if cn, ok := rr.(*dns.CNAME); ok && tied(k, cn) {
				hit = true
			}
		}
		if hit {
			c.ll.Remove(el)
			c.remove(k)
		}
	}
}

// dropOwned removes the entries of the names in owners (fully
// qualified, lower case) and the answers whose chains pass through them,
// as inserting a CNAME for a name frees that name's records (cache.c
// cache_scan_free). The CNAMEs that lead to those names stay: the new
// CNAME takes the freed record with its uid (really_insert,
// target_crec), so they lead to it.
func (c *answerCache) dropOwned(owners map[string]bool) {
	c.dropTied(owners, func(k cacheKey, cn *dns.CNAME) bool {
		return k.qtype != dns.TypeCNAME && owners[strings.ToLower(cn.Hdr.Name)]
	})
}

// relink makes the cached CNAMEs of owners (lower case, fully qualified)
// lead to target, as dnsmasq's parent process links the CNAMEs a TCP
// child sends it (see resolver.cacheTCPChain); deadEnd says that target
// is the owner of the SOA a negative chain ended with (measured on 2.90:
// the CNAME is cached, the negative record answers its own name, a
// question through the CNAME goes upstream but for SOA, and a CNAME
// question gets "up.test CNAME .").
func (c *answerCache) relink(owners map[string]bool, target string, deadEnd bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for owner := range owners {
		el, ok := c.items[cacheKey{owner, dns.TypeCNAME}]
		if !ok {
			continue
		}
		e := el.Value.(*cacheEntry)
		e.deadEnd = deadEnd
		for i, rr := range e.answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, owner) {
				led := *cn
				led.Target = target
				e.answer[i] = &led
			}
		}
	}
}

// dropSOA removes the cached SOA of zone (lower case, fully qualified).
// The dead-end CNAMEs that led to it (relink) outlive it until the
// next insertion: dnsmasq frees the SOA's record and takes it again, with
// its uid, for the SOA it is inserting (cache.c really_insert,
// target_crec), so they still point at a record, though not one any name
// finds; only when that insertion has failed and the next one begins is
// the record freed for good (cache_start_insert), and the CNAMEs
// outdated (is_outdated_cname_pointer).
func (c *answerCache) dropSOA(zone string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		e := el.Value.(*cacheEntry)
		switch {
		case k == cacheKey{zone, dns.TypeSOA}:
			c.ll.Remove(el)
			c.remove(k)
		case e.deadEnd && slices.ContainsFunc(e.answer, func(rr dns.RR) bool {
			cn, ok := rr.(*dns.CNAME)
			return ok && strings.EqualFold(cn.Target, zone)
		}):
			e.orphaned = true
			c.orphans = append(c.orphans, k)
		}
	}
}

// startInsert begins an insertion as dnsmasq's cache_start_insert does:
// the dead ends orphaned by dropSOA go.
func (c *answerCache) startInsert() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.orphans {
		if el, ok := c.items[k]; ok && el.Value.(*cacheEntry).orphaned {
			c.ll.Remove(el)
			c.remove(k)
		}
	}
	c.orphans = c.orphans[:0]
}
