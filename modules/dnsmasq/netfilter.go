package dnsmasq

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/netfilter"
)

// ruleMatchesName says whether the rule's domain covers name (lower case, no
// trailing dot), as address= domains do.
func ruleMatchesName(r conf.SetRule, name string) bool {
	switch {
	case r.Domain == "":
		return true
	}
	return name == r.Domain || strings.HasSuffix(name, "."+r.Domain)
}

// setRuleFor returns the set rule for a query name: the one with the longest
// matching domain, the last given among equals (as dnsmasq picks them).
func setRuleFor(rules []conf.SetRule, name string) (conf.SetRule, bool) {
	best, found := -1, false
	var out conf.SetRule
	for _, r := range rules {
		if ruleMatchesName(r, name) && len(r.Domain) >= best {
			best, out, found = len(r.Domain), r, true
		}
	}
	return out, found
}

// chainAddrs returns the addresses of the A and AAAA records of answer that
// belong to qname or to the CNAME chain that starts there.
func chainAddrs(qname string, answer []dns.RR) []netip.Addr {
	names := map[string]bool{strings.ToLower(dns.Fqdn(qname)): true}
	for grew := true; grew; {
		grew = false
		for _, rr := range answer {
			if c, ok := rr.(*dns.CNAME); ok && names[strings.ToLower(c.Hdr.Name)] {
				t := strings.ToLower(c.Target)
				if !names[t] {
					names[t], grew = true, true
				}
			}
		}
	}
	var out []netip.Addr
	for _, rr := range answer {
		if !names[strings.ToLower(rr.Header().Name)] {
			continue
		}
		switch v := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
				out = append(out, a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// addToSets puts the addresses of a forwarded answer to a query for name
// (lower case, no trailing dot; qname as asked) into the ipset= and
// nftset= sets of the most specific rule for name. Failures are logged:
// the answer goes out in any case, as with dnsmasq.
func (r *resolver) addToSets(name, qname string, answer []dns.RR) {
	rule, ok := setRuleFor(r.cfg.SetRules, name)
	if !ok {
		return
	}
	addrs := chainAddrs(qname, answer)
	for _, a := range addrs {
		for _, set := range rule.IPSets {
			if err := netfilter.AddToIPSet(set, a); err != nil {
				r.log.Warn("failed to update ipset", zap.String("set", set), zap.String("addr", a.String()), zap.Error(err))
			}
		}
		for _, s := range rule.NFTSets {
			if s.IPv == 4 && !a.Is4() || s.IPv == 6 && a.Is4() {
				continue
			}
			if err := netfilter.AddToNFTSet(s, a); err != nil {
				r.log.Warn("failed to update nftset", zap.String("set", s.Family+" "+s.Table+" "+s.Set),
					zap.String("addr", a.String()), zap.Error(err))
			}
		}
	}
}
