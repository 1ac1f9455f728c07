package dnsmasq

import (
	"github.com/miekg/dns"
)

// bogusPriv answers a reverse lookup (PTR or ANY, class IN) of a private
// address with bogus-priv: an authoritative NXDOMAIN, unless a server=
// line for a domain (not server=/d/#, server=// or server=/#/) covers the
// name. dnsmasq decides this in answer_request, after the local data and
// before the domain table, so it wins over address= and local= for the
// name too. The SOA of an NXDOMAIN the cache holds for the name (from a
// query of another type) goes with it (rfc1035.c answer_request,
// soa_lookup).
func (r *resolver) bogusPriv(q dns.Question, name, fqdn string) (answer, bool) {
	if !r.cfg.BogusPriv || q.Qclass != dns.ClassINET || q.Qtype != dns.TypePTR && q.Qtype != dns.TypeANY ||
		!privateReverse(name) || r.hasDomainServer(name) {
		return answer{}, false
	}
	a := answer{rcode: dns.RcodeNameError, aa: true, source: sourceLocal}
	if rcode, _, ns, ok := r.cache.get(fqdn, 0, false); ok && rcode == dns.RcodeNameError {
		echoCase(ns, q.Name, true)
		r.capAll(ns)
		a.ns = ns
	}
	return a, true
}

// hasDomainServer reports whether a server= line with an upstream server
// for a domain covers name (domain-match.c lookup_domain with F_DOMAINSRV:
// server=/d/# falls through to the plain servers, which do not count).
func (r *resolver) hasDomainServer(name string) bool {
	var buf [8]*ruleSet
	for _, rs := range r.store.matches(name, buf[:0]) {
		if len(rs.servers) > 0 && rs.domain != "" && rs.domain != "#" {
			return true
		}
	}
	return false
}
