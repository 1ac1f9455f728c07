package dnsmasq

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// node is the local data of one name: hosts entries, a CNAME and other
// records.
type node struct {
	addrs []hostEntry
	cname *cnameRec
	rrs   []dns.RR
}

// ruleSet gathers the rules for one domain pattern.
type ruleSet struct {
	domain   string
	wildcard bool
	servers  []Upstream
	standard bool
	local    bool
	nx       bool
	addrs    []netip.Addr
	null     bool
}

// Store is the immutable answer data of one configuration: local records
// and the server=/address=/local= domain table.
type Store struct {
	names map[string]*node
	ptr   map[string][]hostEntry // reverse name -> hosts entries
	exact map[string]*ruleSet    // label-matched domains; "" is // and "#" is /#/
	wild  []*ruleSet             // *domain patterns, longest first
}

func newStore(c *Config, hosts []hostEntry) *Store {
	s := &Store{names: map[string]*node{}, ptr: map[string][]hostEntry{}, exact: map[string]*ruleSet{}}
	get := func(n string) *node {
		nd := s.names[n]
		if nd == nil {
			nd = &node{}
			s.names[n] = nd
		}
		return nd
	}
	// host-record entries come first, like dnsmasq's cache load order.
	for _, h := range append(append([]hostEntry{}, c.Hosts...), hosts...) {
		nd := get(h.Name)
		dup := false
		for _, e := range nd.addrs {
			if e.Addr == h.Addr {
				dup = true
			}
		}
		if !dup {
			nd.addrs = append(nd.addrs, h)
		}
		if h.Reverse {
			r, _ := dns.ReverseAddr(h.Addr.String())
			r = canon(r)
			s.ptr[r] = append(s.ptr[r], h)
		}
	}
	for i := range c.CNAMEs {
		get(c.CNAMEs[i].Name).cname = &c.CNAMEs[i]
	}
	for _, rr := range c.Records {
		nd := get(canon(rr.Header().Name))
		nd.rrs = append(nd.rrs, rr)
	}
	// selfmx / localmx: an MX for every hosts name without one.
	if c.SelfMX || c.LocalMX {
		target := c.mxTarget()
		for _, h := range append(append([]hostEntry{}, c.Hosts...), hosts...) {
			nd := s.names[h.Name]
			has := false
			for _, rr := range nd.rrs {
				has = has || rr.Header().Rrtype == dns.TypeMX
			}
			if has {
				continue
			}
			t := h.Name
			if !c.SelfMX {
				t = target
			}
			nd.rrs = append(nd.rrs, &dns.MX{Hdr: hdr(h.Name, dns.TypeMX), Mx: presentation(t), Preference: 1})
		}
	}
	wild := map[string]*ruleSet{}
	for _, r := range c.Rules {
		var rs *ruleSet
		if r.Wildcard {
			key := r.Domain
			rs = wild[key]
			if rs == nil {
				rs = &ruleSet{domain: r.Domain, wildcard: true}
				wild[key] = rs
				s.wild = append(s.wild, rs)
			}
		} else {
			rs = s.exact[r.Domain]
			if rs == nil {
				rs = &ruleSet{domain: r.Domain}
				s.exact[r.Domain] = rs
			}
		}
		rs.servers = append(rs.servers, r.Servers...)
		rs.standard = rs.standard || r.Standard
		rs.local = rs.local || r.Local
		rs.nx = rs.nx || r.NX
		rs.null = rs.null || r.Null
		rs.addrs = append(rs.addrs, r.Addrs...)
	}
	sort.SliceStable(s.wild, func(i, j int) bool { return len(s.wild[i].domain) > len(s.wild[j].domain) })
	return s
}

// matches returns the rule sets that apply to name (lower case, no trailing
// dot), most specific first: longer domains first and, for the same length,
// the label-matched form before the *wildcard form; then // for names
// without dots, then /#/.
func (s *Store) matches(name string) []*ruleSet {
	var out []*ruleSet
	suffix := name
	for suffix != "" {
		if rs := s.exact[suffix]; rs != nil {
			out = append(out, rs)
		}
		i := strings.IndexByte(suffix, '.')
		if i < 0 {
			break
		}
		suffix = suffix[i+1:]
	}
	for _, w := range s.wild {
		if strings.HasSuffix(name, w.domain) {
			out = append(out, w)
		}
	}
	if len(s.wild) > 0 {
		sort.SliceStable(out, func(i, j int) bool {
			li, lj := len(out[i].domain), len(out[j].domain)
			if li != lj {
				return li > lj
			}
			return !out[i].wildcard && out[j].wildcard
		})
	}
	if !strings.Contains(name, ".") {
		if rs := s.exact[""]; rs != nil {
			out = append(out, rs)
		}
	}
	if rs := s.exact["#"]; rs != nil {
		out = append(out, rs)
	}
	return out
}
