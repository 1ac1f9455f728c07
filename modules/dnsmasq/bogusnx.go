package dnsmasq

import (
	"strings"

	"github.com/miekg/dns"
)

// cacheBogusNX caches the NXDOMAIN that bogus-nxdomain made of a reply as
// dnsmasq does: for the owner of the bogus record (the target of a CNAME
// chain, not the question), for that record's TTL bounded by
// max-cache-ttl and min-cache-ttl, not at all when that is 0, and whatever
// no-negcache says (rfc1035.c check_for_bogus_wildcard, check_bad_address;
// cache.c cache_insert).
func (r *resolver) cacheBogusNX(bad dns.RR) {
	ttl := bad.Header().Ttl
	if r.cfg.HasMaxCacheTTL && ttl > r.cfg.MaxCacheTTL {
		ttl = r.cfg.MaxCacheTTL
	}
	ttl = max(ttl, r.cfg.MinCacheTTL)
	if r.cache == nil || ttl == 0 {
		return
	}
	owner := strings.ToLower(dns.Fqdn(bad.Header().Name))
	r.cache.putStatus(cacheKey{owner, 0}, dns.RcodeNameError, nil, nil, ttl, cacheUnvalidated)
}
