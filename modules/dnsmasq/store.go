package dnsmasq

import (
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// node is the local data of one name: hosts entries, a CNAME and other
// records.
type node struct {
	addrs []hostEntry
	ips   []net.IP // addrs[i].Addr as a net.IP, shared by the answers
	cname *cnameRec
	rrs   []dns.RR
	// autoMX is the MX among rrs that selfmx or localmx made: not zone
	// data for auth-zone (measured).
	autoMX dns.RR
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
	ips      []net.IP // addrs[i] as a net.IP, shared by the answers
	null     bool
	ignored  bool // a server= line for the domain whose @source or @interface cannot be used
}

func ipsOf(addrs []netip.Addr) []net.IP {
	out := make([]net.IP, len(addrs))
	for i, a := range addrs {
		out[i] = net.IP(a.AsSlice())
	}
	return out
}

// Store is the immutable answer data of one configuration: local records
// and the server=/address=/local= domain table.
type Store struct {
	names map[string]*node
	ptr   map[string][]hostEntry // reverse name -> hosts entries
	exact map[string]*ruleSet    // label-matched domains; "" is // and "#" is /#/
	wild  []*ruleSet             // *domain patterns, longest first
	// ifacePTR answers PTR queries for interface-name and dynamic-host
	// addresses (reverse name -> name), before the hosts entries.
	ifacePTR map[string]string
	// parents are the names that have local names below them (for
	// "a.b.c": "b.c" and "c"); under local= and address= they answer
	// NODATA instead of NXDOMAIN (measured on 2.90).
	parents map[string]bool
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
			nd.autoMX = &dns.MX{Hdr: hdr(h.Name, dns.TypeMX), Mx: presentation(t), Preference: 1}
			nd.rrs = append(nd.rrs, nd.autoMX)
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
		rs.ignored = rs.ignored || r.Ignored
		rs.addrs = append(rs.addrs, r.Addrs...)
	}
	sort.SliceStable(s.wild, func(i, j int) bool { return len(s.wild[i].domain) > len(s.wild[j].domain) })
	for _, nd := range s.names {
		nd.ips = make([]net.IP, len(nd.addrs))
		for i, h := range nd.addrs {
			nd.ips[i] = net.IP(h.Addr.AsSlice())
		}
	}
	for _, rs := range s.exact {
		rs.ips = ipsOf(rs.addrs)
	}
	s.indexParents()
	for _, rs := range s.wild {
		rs.ips = ipsOf(rs.addrs)
	}
	return s
}

// matches returns the rule sets that apply to name (lower case, no trailing
// dot), most specific first: longer domains first and, for the same length,
// the label-matched form before the *wildcard form; then // for names
// without dots, then /#/. They are appended to out (which may have room for
// them, so that a query allocates nothing).
func (s *Store) matches(name string, out []*ruleSet) []*ruleSet {
	out = out[:0]
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
		slices.SortStableFunc(out, func(a, b *ruleSet) int {
			if la, lb := len(a.domain), len(b.domain); la != lb {
				return lb - la
			}
			switch {
			case !a.wildcard && b.wildcard:
				return -1
			case a.wildcard && !b.wildcard:
				return 1
			}
			return 0
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

// indexParents fills s.parents from the local names.
func (s *Store) indexParents() {
	s.parents = map[string]bool{}
	for n := range s.names {
		for i := strings.IndexByte(n, '.'); i >= 0; i = strings.IndexByte(n, '.') {
			n = n[i+1:]
			s.parents[n] = true
		}
	}
}
