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
