package dnsmasq

import (
	"strings"

	"github.com/miekg/dns"
)

// additional is the additional section of a local answer: for each target
// of the mx-host and srv-host records among recs (the records of nd), the
// addresses dnsmasq holds for it in its cache — hosts entries, host-record
// and cached upstream answers, not address= (rfc1035.c answer_request).
// The MX records of selfmx and localmx get none; a target is looked up
// once, whatever its case.
func (r *resolver) additional(nd *node, recs []dns.RR) []dns.RR {
	var out []dns.RR
	var seen []string
	for _, rr := range recs {
		var target string
		switch v := rr.(type) {
		case *dns.MX:
			if nd.isAutoMX(v) {
				continue
			}
			target = v.Mx
		case *dns.SRV:
			target = v.Target
		default:
			continue
		}
		t := canon(target)
		if t == "" || containsFold(seen, t) {
			continue
		}
		seen = append(seen, t)
		out = append(out, r.knownAddrs(t)...)
	}
	return out
}

// knownAddrs returns the A and AAAA records dnsmasq's cache holds for name
// (lower case, no trailing dot): its hosts and host-record addresses and,
// of a type they have none of, the cached upstream ones (cache.c
// cache_find_by_name finds both kinds; an upstream record of a type the
// hosts entries have is never cached).
func (r *resolver) knownAddrs(name string) []dns.RR {
	fqdn := dns.Fqdn(name)
	var out []dns.RR
	has := map[uint16]bool{}
	if t := r.store.names[name]; t != nil {
		for i, h := range t.addrs {
			rr := ipRR(fqdn, h.Addr, t.ips[i], r.ttl(h.TTL))
			has[rr.Header().Rrtype] = true
			out = append(out, rr)
		}
	}
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if has[qt] {
			continue
		}
		if rcode, ans, _, ok := r.cache.get(fqdn, qt, false); ok && rcode == dns.RcodeSuccess {
			for _, rr := range ans {
				if h := rr.Header(); h.Rrtype == qt && strings.EqualFold(h.Name, fqdn) {
					r.capAll([]dns.RR{rr})
					out = append(out, rr)
				}
			}
		}
	}
	return out
}

// isAutoMX reports whether mx (a copy for an answer) is the record selfmx
// or localmx made; the node has no other MX when it has that one.
func (nd *node) isAutoMX(mx *dns.MX) bool {
	return nd.autoMX != nil && dns.IsDuplicate(nd.autoMX, mx)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
