package dnsmasq

import (
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// node is the local data of one name: hosts entries, a CNAME and other
// records.
type node struct {
	addrs []conf.HostEntry
	ips   []net.IP // addrs[i].Addr as a net.IP, shared by the answers
	cname *conf.CNAMERec
	rrs   []dns.RR
	// autoMX is the MX among rrs that selfmx or localmx made: not zone
	// data for auth-zone (measured).
	autoMX dns.RR
	// iface: the name of an interface-name or dynamic-host line (it
	// exists even while the interface has no address).
	iface bool
}

// ruleSet gathers the rules for one domain pattern.
type ruleSet struct {
	domain   string
	wildcard bool
	servers  []conf.Upstream
	standard bool
	local    bool
	nx       bool
	addrs    []netip.Addr
	ips      []net.IP // addrs[i] as a net.IP, shared by the answers
	null     bool
	nulls    int  // the address=/d/# lines: each gives its null addresses
	ignored  bool // a server= line for the domain whose @source or @interface cannot be used
}

func ipsOf(addrs []netip.Addr) []net.IP {
	out := make([]net.IP, len(addrs))
	for i, a := range addrs {
		out[i] = net.IP(a.AsSlice())
	}
	return out
}

// localStore is the immutable answer data of one configuration: local records
// and the server=/address=/local= domain table.
type localStore struct {
	names map[string]*node
	ptr   map[string][]conf.HostEntry // reverse name -> hosts entries
	exact map[string]*ruleSet         // label-matched domains; "" is // and "#" is /#/
	wild  []*ruleSet                  // *domain patterns, longest first
	// ifacePTR answers PTR queries for interface-name and dynamic-host
	// addresses (reverse name -> name), before the hosts entries.
	ifacePTR map[string]string
	// known are the names dnsmasq counts as existing locally (its
	// check_for_local_domain): the names of hosts entries, host-record,
	// cname, txt-record, mx-host, srv-host, naptr-record, ptr-record and
	// interface-name, and every name above them (empty non-terminals).
	// Names that only have dns-rr or caa-record records are not among
	// them. A known name is NODATA, never NXDOMAIN, for the types it does
	// not have: under local= and address=, with domain-needed, and when an
	// upstream server says NXDOMAIN.
	known map[string]bool
	// parents are the names of dnsmasq's empty non-terminal cache
	// entries (see indexParents): no CNAME from upstream is cached for
	// them.
	parents map[string]bool
}

func newStore(c *conf.Config, hosts []conf.HostEntry) *localStore {
	s := &localStore{names: map[string]*node{}, ptr: map[string][]conf.HostEntry{}, exact: map[string]*ruleSet{}}
	// host-record entries come first, like dnsmasq's cache load order.
	all := append(append([]conf.HostEntry{}, c.Hosts...), hosts...)
	s.addHosts(c, all)
	for i := range c.CNAMEs {
		s.node(c.CNAMEs[i].Name).cname = &c.CNAMEs[i]
	}
	for _, rr := range c.Records {
		nd := s.node(canon(rr.Header().Name))
		nd.rrs = append(nd.rrs, rr)
	}
	// selfmx / localmx: an MX for every hosts name without one.
	if c.SelfMX || c.LocalMX {
		s.addAutoMX(c, all)
	}
	s.addRules(c.Rules)
	for _, nd := range s.names {
		nd.ips = make([]net.IP, len(nd.addrs))
		for i, h := range nd.addrs {
			nd.ips[i] = net.IP(h.Addr.AsSlice())
		}
	}
	for _, rs := range s.exact {
		rs.ips = ipsOf(rs.addrs)
	}
	s.indexKnown()
	s.indexParents(c)
	for _, rs := range s.wild {
		rs.ips = ipsOf(rs.addrs)
	}
	return s
}

// node is the node of name, made empty if there is none yet.
func (s *localStore) node(name string) *node {
	nd := s.names[name]
	if nd == nil {
		nd = &node{}
		s.names[name] = nd
	}
	return nd
}

// addHosts adds the addresses of the hosts entries (host-record first),
// each address once a name. Only the first of them with an address answers
// its PTR query (cache.c add_hosts_entry: "only one address -> name
// mapping, first one trumps").
func (s *localStore) addHosts(c *conf.Config, all []conf.HostEntry) {
	owners := reverseOwners(all, c.EDNSPacketMax, !c.NoRoundRobin)
	for i, h := range all {
		nd := s.node(h.Name)
		if !slices.ContainsFunc(nd.addrs, func(e conf.HostEntry) bool { return e.Addr == h.Addr }) {
			nd.addrs = append(nd.addrs, h)
		}
		if owners[i] {
			r := reverseName(h.Addr)
			s.ptr[r] = append(s.ptr[r], h)
		}
	}
}

// addRules gathers the server=, local= and address= rules by domain
// pattern: the label-matched ones in exact, the *domain ones in wild,
// longest first.
func (s *localStore) addRules(rules []conf.DomainRule) {
	wild := map[string]*ruleSet{}
	for _, r := range rules {
		var rs *ruleSet
		if r.Wildcard {
			rs = wild[r.Domain]
			if rs == nil {
				rs = &ruleSet{domain: r.Domain, wildcard: true}
				wild[r.Domain] = rs
				s.wild = append(s.wild, rs)
			}
		} else {
			rs = s.exact[r.Domain]
			if rs == nil {
				rs = &ruleSet{domain: r.Domain}
				s.exact[r.Domain] = rs
			}
		}
		rs.add(r)
	}
	sort.SliceStable(s.wild, func(i, j int) bool { return len(s.wild[i].domain) > len(s.wild[j].domain) })
}

// add merges one rule into the set.
func (rs *ruleSet) add(r conf.DomainRule) {
	rs.servers = append(rs.servers, r.Servers...)
	rs.standard = rs.standard || r.Standard
	rs.local = rs.local || r.Local
	rs.nx = rs.nx || r.NX
	rs.null = rs.null || r.Null
	if r.Null {
		rs.nulls++
	}
	rs.ignored = rs.ignored || r.Ignored
	rs.addrs = append(rs.addrs, r.Addrs...)
}

// matches returns the rule sets that apply to name (lower case, no trailing
// dot), most specific first: longer domains first and, for the same length,
// the label-matched form before the *wildcard form; then // for names
// without dots, then /#/. They are appended to out (which may have room for
// them, so that a query allocates nothing).
func (s *localStore) matches(name string, out []*ruleSet) []*ruleSet {
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

// addAutoMX gives the names selfmx and localmx answer for an MX record:
// the names of hosts entries and host-record lines and the names above
// them, unless they have an mx-host record (rfc1035.c answer_request:
// cache_find_by_name with F_HOSTS finds the entries and the empty
// non-terminals made for them, cache.c make_non_terminals). A name above
// a cname alias already has the alias's non-terminal, loaded first (a
// configuration entry, not a hosts one): it gets none. With selfmx the
// MX names its owner (localData gives it the question's spelling), with
// localmx the mx-target.
func (s *localStore) addAutoMX(c *conf.Config, hosts []conf.HostEntry) {
	aliases := map[string]bool{}
	for _, cn := range c.CNAMEs {
		for n := cn.Name; ; {
			aliases[n] = true
			i := strings.IndexByte(n, '.')
			if i < 0 {
				break
			}
			n = n[i+1:]
		}
	}
	target := c.DefaultMXTarget()
	add := func(name string) {
		nd := s.node(name)
		if nd.autoMX != nil || slices.ContainsFunc(nd.rrs, isType(dns.TypeMX)) {
			return
		}
		t := name
		if !c.SelfMX {
			t = target
		}
		nd.autoMX = &dns.MX{Hdr: hdr(name, dns.TypeMX), Mx: presentation(t), Preference: 1}
		nd.rrs = append(nd.rrs, nd.autoMX)
	}
	hostNames := map[string]bool{}
	for _, h := range hosts {
		hostNames[h.Name] = true
	}
	for _, h := range hosts {
		add(h.Name)
		for n, i := h.Name, strings.IndexByte(h.Name, '.'); i >= 0; i = strings.IndexByte(n, '.') {
			n = n[i+1:]
			if aliases[n] {
				break // and the names above it have the alias's too
			}
			if nd := s.names[n]; !hostNames[n] && nd != nil && nd.ownsListRecord() {
				// A record line of the name itself deletes the name's
				// empty non-terminal entry, which the MX needs (cache.c
				// make_non_terminals, called for daemon->txt, naptr,
				// mxnames and ptr after the hosts entries).
				continue
			}
			add(n)
		}
	}
}

// indexKnown fills s.known from the local names.
func (s *localStore) indexKnown() {
	s.known = map[string]bool{}
	for n, nd := range s.names {
		if !nd.makesName() {
			continue
		}
		s.known[n] = true
		for i := strings.IndexByte(n, '.'); i >= 0; i = strings.IndexByte(n, '.') {
			n = n[i+1:]
			s.known[n] = true
		}
	}
}

// indexParents fills s.parents as dnsmasq's cache_reload makes its empty
// non-terminal entries (cache.c make_non_terminals). The names with cache
// entries of their own (hosts entries, host-record, cname) get one for
// every name above them that has no entry. Then the names of dnsmasq's
// record lists, in its order (txt-record, naptr-record, mx-host and
// srv-host, interface-name, ptr-record; each list newest line first, but
// interface-name) each delete their own name's empty entry and make those
// above them: a name both above a host and the name of a later record line
// has none.
func (s *localStore) indexParents(c *conf.Config) {
	s.parents = map[string]bool{}
	real := func(n string) bool {
		nd := s.names[n]
		return nd != nil && (nd.cname != nil || len(nd.addrs) > 0 && !nd.iface)
	}
	above := func(n string) {
		for i := strings.IndexByte(n, '.'); i >= 0; i = strings.IndexByte(n, '.') {
			if n = n[i+1:]; !real(n) {
				s.parents[n] = true
			}
		}
	}
	for n := range s.names {
		if real(n) {
			above(n)
		}
	}
	lists := map[uint16][]string{}
	for _, rr := range c.Records {
		if _, dnsRR := rr.(*dns.RFC3597); !dnsRR {
			t := rr.Header().Rrtype
			if t == dns.TypeSRV {
				t = dns.TypeMX // one list, mxnames
			}
			lists[t] = append([]string{canon(rr.Header().Name)}, lists[t]...) // newest first
		}
	}
	for _, in := range c.IfaceNames {
		lists[0] = append(lists[0], canon(in.Name))
	}
	for _, t := range [...]uint16{dns.TypeTXT, dns.TypeNAPTR, dns.TypeMX, 0, dns.TypePTR} {
		for _, n := range lists[t] {
			delete(s.parents, n)
			above(n)
		}
	}
}

// makesName reports whether the node's data makes its name exist for
// dnsmasq: addresses, a CNAME, an interface-name line, or a record of a type dnsmasq keeps in its
// own lists (TXT, MX, SRV, NAPTR, PTR). dns-rr and caa-record data does
// not (rfc1035.c check_for_local_domain skips daemon->rr), whatever its
// type: a dns-rr line of type 16 is TXT data in daemon->rr, not in
// daemon->txt (option.c LOPT_RR).
func (nd *node) makesName() bool {
	return len(nd.addrs) > 0 || nd.cname != nil || nd.iface || nd.ownsListRecord()
}

// ownsListRecord reports whether the node has a record of a type dnsmasq
// keeps in its own lists (txt-record, mx-host, srv-host, naptr-record,
// ptr-record; not dns-rr, whatever its type, nor caa-record, which are
// daemon->rr). An MX made by selfmx/localmx does not count.
func (nd *node) ownsListRecord() bool {
	for _, rr := range nd.rrs {
		if _, dnsRR := rr.(*dns.RFC3597); dnsRR || rr == nd.autoMX {
			continue
		}
		switch rr.Header().Rrtype {
		case dns.TypeTXT, dns.TypeMX, dns.TypeSRV, dns.TypeNAPTR, dns.TypePTR:
			return true
		}
	}
	return false
}

// isKnown reports whether name (lower case, no trailing dot) exists
// locally for dnsmasq (see localStore.known). The reverse names of hosts
// entries do not: they answer PTR queries only.
func (s *localStore) isKnown(name string) bool {
	return s.known[name]
}

// hasConfigAddress reports whether an address= line with an address (or
// #, the null addresses) covers name, at any level: dnsmasq's
// lookup_domain(name, F_CONFIG). Such a name exists, whatever a more
// specific server= says.
func (s *localStore) hasConfigAddress(name string) bool {
	var buf [8]*ruleSet
	for _, rs := range s.matches(name, buf[:0]) {
		if len(rs.addrs) > 0 || rs.null {
			return true
		}
	}
	return false
}
