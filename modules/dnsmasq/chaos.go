package dnsmasq

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// chaos answers class CHAOS questions under "bind", as dnsmasq 2.90 does
// (measured): TXT (or ANY) for version.bind, authors.bind, copyright.bind
// and cachesize.bind, authoritative with TTL local-ttl (0 for cachesize); NOTIMP for every other type
// and name under bind or server (id.server, version.server), and for all of
// them with no-ident. Frontdesk does not
// give dnsmasq's counters (insertions.bind, evictions.bind, misses.bind,
// hits.bind, auth.bind, servers.bind): they are NOTIMP too. ok is false for
// names outside bind and server, which are forwarded.
func (r *resolver) chaos(q dns.Question) (a answer, ok bool) {
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	if name != "bind" && !strings.HasSuffix(name, ".bind") && name != "server" && !strings.HasSuffix(name, ".server") {
		return answer{}, false
	}
	notimp := answer{rcode: dns.RcodeNotImplemented, source: sourceLocal}
	if r.cfg.NoIdent || q.Qtype != dns.TypeTXT && q.Qtype != dns.TypeANY {
		return notimp, true
	}
	var txt string
	ttl := r.ttl(-1)
	switch name {
	case "version.bind":
		// The version Frontdesk answers like.
		txt = "dnsmasq-2.90"
	case "authors.bind":
		txt = "Simon Kelley"
	case "copyright.bind":
		txt = "Copyright (c) 2000-2024 Simon Kelley"
	case "cachesize.bind":
		txt = strconv.Itoa(r.cfg.CacheSize)
		ttl = 0 // a counter: TTL 0 whatever local-ttl (measured)
	default:
		return notimp, true
	}
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS, Ttl: ttl}, Txt: []string{txt}}
	return answer{rcode: dns.RcodeSuccess, aa: true, answer: []dns.RR{rr}, source: sourceLocal}, true
}
