package conf

import (
	"errors"
	"fmt"
	"strings"
)

// SetRule is one ipset= or nftset= line for one domain: the addresses of
// forwarded answers to queries for names under Domain go into its sets.
type SetRule struct {
	Domain  string // lower case, no trailing dot; "" (/#/ or //) matches every name
	IPSets  []string
	NFTSets []NFTSet
}

// NFTSet is one nftables set of an nftset= line.
type NFTSet struct {
	IPv    int    // 4 or 6: only A or only AAAA records; 0 = both
	Family string // inet, ip, ip6, ...
	Table  string
	Set    string
}

// parseSetRule reads ipset=/<domain>[/<domain>...]/<set>[,<set>...] (nft
// false) or nftset=/<domain>[/<domain>...]/[(6|4)#[<family>#]<table>#<set>[,...]]
// (nft true) into one rule per domain.
func parseSetRule(opt, val string, nft bool) ([]SetRule, error) {
	doms, rest, ok := splitDomains(val)
	if !ok || doms == nil {
		return nil, fmt.Errorf("bad domain in --%s", opt)
	}
	var r SetRule
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
	out := make([]SetRule, 0, len(doms))
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
func parseNFTSet(s string) (NFTSet, error) {
	var ns NFTSet
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
	if _, ok := NFTFamilies[ns.Family]; !ok {
		return ns, fmt.Errorf("unknown family %q", ns.Family)
	}
	return ns, nil
}

// NFTFamilies are the nftables address families by name (NFPROTO_*).
var NFTFamilies = map[string]uint8{"inet": 1, "ip": 2, "arp": 3, "netdev": 5, "bridge": 7, "ip6": 10}

// optSet parses ipset, nftset.
func optSet(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	rules, err := parseSetRule(o.name, o.val, o.name == "nftset")
	if err != nil {
		return err
	}
	c.SetRules = append(c.SetRules, rules...)
	return nil
}
