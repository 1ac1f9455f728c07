package dnsmasq

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	"go.uber.org/zap"
)

// setRule is one ipset= or nftset= line for one domain: the addresses of
// forwarded answers to queries for names under Domain go into its sets.
type setRule struct {
	Domain  string // lower case, no trailing dot; "" (/#/ or //) matches every name
	IPSets  []string
	NFTSets []nftSet
}

// nftSet is one nftables set of an nftset= line.
type nftSet struct {
	IPv    int    // 4 or 6: only A or only AAAA records; 0 = both
	Family string // inet, ip, ip6, ...
	Table  string
	Set    string
}

// parseSetRule reads ipset=/<domain>[/<domain>...]/<set>[,<set>...] (nft
// false) or nftset=/<domain>[/<domain>...]/[(6|4)#[<family>#]<table>#<set>[,...]]
// (nft true) into one rule per domain.
func parseSetRule(opt, val string, nft bool) ([]setRule, error) {
	doms, rest, ok := splitDomains(val)
	if !ok || doms == nil {
		return nil, fmt.Errorf("bad domain in --%s", opt)
	}
	var r setRule
	for _, s := range strings.Split(rest, ",") {
		if s == "" {
			return nil, fmt.Errorf("bad set name in --%s", opt)
		}
		if !nft {
			r.IPSets = append(r.IPSets, s)
			continue
		}
		ns, err := parseNFTSet(s)
		if err != nil {
			return nil, fmt.Errorf("bad set in --%s: %w", opt, err)
		}
		r.NFTSets = append(r.NFTSets, ns)
	}
	out := make([]setRule, 0, len(doms))
	for _, d := range doms {
		rr := r
		if strings.HasPrefix(d, "*") {
			// dnsmasq matches ipset= and nftset= domains by labels only:
			// /*x/ is a domain that no query name ends in (measured).
			rr.Domain = strings.ToLower(strings.TrimSuffix(d, "."))
		} else if d != "#" {
			name, _, err := ruleDomain(d)
			if err != nil {
				return nil, fmt.Errorf("bad domain in --%s", opt)
			}
			rr.Domain = name
		}
		out = append(out, rr)
	}
	return out, nil
}

// parseNFTSet reads [(6|4)#][<family>#]<table>#<set>; the family defaults
// to ip, as with nft.
func parseNFTSet(s string) (nftSet, error) {
	var ns nftSet
	if strings.HasPrefix(s, "4#") || strings.HasPrefix(s, "6#") {
		ns.IPv = int(s[0] - '0')
		s = s[2:]
	}
	f := strings.Split(s, "#")
	switch len(f) {
	case 2:
		ns.Family, ns.Table, ns.Set = "ip", f[0], f[1] // nft's default family (measured)
	case 3:
		ns.Family, ns.Table, ns.Set = f[0], f[1], f[2]
	default:
		return ns, errors.New("want [family#]table#set")
	}
	if ns.Table == "" || ns.Set == "" {
		return ns, errors.New("empty table or set name")
	}
	if _, ok := nftFamilies[ns.Family]; !ok {
		return ns, fmt.Errorf("unknown family %q", ns.Family)
	}
	return ns, nil
}

// nftFamilies are the nftables address families by name (NFPROTO_*).
var nftFamilies = map[string]uint8{"inet": 1, "ip": 2, "arp": 3, "netdev": 5, "bridge": 7, "ip6": 10}

// matchesName says whether the rule's domain covers name (lower case, no
// trailing dot), as address= domains do.
func (r setRule) matchesName(name string) bool {
	switch {
	case r.Domain == "":
		return true
	}
	return name == r.Domain || strings.HasSuffix(name, "."+r.Domain)
}

// setRuleFor returns the set rule for a query name: the one with the longest
// matching domain, the last given among equals (as dnsmasq picks them).
func setRuleFor(rules []setRule, name string) (setRule, bool) {
	best, found := -1, false
	var out setRule
	for _, r := range rules {
		if r.matchesName(name) && len(r.Domain) >= best {
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
func (r *Resolver) addToSets(name, qname string, answer []dns.RR) {
	rule, ok := setRuleFor(r.cfg.SetRules, name)
	if !ok {
		return
	}
	addrs := chainAddrs(qname, answer)
	for _, a := range addrs {
		for _, set := range rule.IPSets {
			if _, err := nfnlSend(ipsetAddMsg(1, set, a), 1); err != nil {
				r.log.Warn("failed to update ipset", zap.String("set", set), zap.String("addr", a.String()), zap.Error(err))
			}
		}
		for _, s := range rule.NFTSets {
			if s.IPv == 4 && !a.Is4() || s.IPv == 6 && a.Is4() {
				continue
			}
			if err := addToNFTSet(s, a); err != nil {
				r.log.Warn("failed to update nftset", zap.String("set", s.Family+" "+s.Table+" "+s.Set),
					zap.String("addr", a.String()), zap.Error(err))
			}
		}
	}
}

// addToNFTSet adds a to an nftables set, as a one-address range if the set
// holds intervals.
func addToNFTSet(s nftSet, a netip.Addr) error {
	replies, err := nfnlSend(nftGetSetMsg(1, s), 1)
	if err != nil {
		return fmt.Errorf("reading the set: %w", err)
	}
	interval := false
	for _, m := range replies {
		if f, ok := nftSetFlags(m); ok {
			interval = f&nftSetInterval != 0
		}
	}
	_, err = nfnlSend(nftAddBatch(1, s, []netip.Addr{a}, interval), 1)
	return err
}
