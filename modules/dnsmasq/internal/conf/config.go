package conf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Upstream is one forwarding target of server=, local= or rev-server=.
type Upstream struct {
	Addr   string         // host:port
	Source netip.AddrPort // server=...@addr[#port]: source of the queries (port 0 = random)
	Iface  string         // server=...@interface: queries leave through it (SO_BINDTODEVICE)
}

// DomainRule is what server=, local= and address= say about one domain.
type DomainRule struct {
	Domain   string // lower case, no trailing dot; "" = unqualified names (//), "#" = every name (address=/#/)
	Wildcard bool   // written as *domain: matches any name ending in Domain (".x" for *.x)
	// one of:
	Servers  []Upstream   // server=/d/ip
	Standard bool         // server=/d/#
	Local    bool         // server=/d/ or local=/d/: never forwarded, NXDOMAIN
	NX       bool         // address=/d/: NXDOMAIN
	Addrs    []netip.Addr // address=/d/ip
	Null     bool         // address=/d/#
	Ignored  bool         // server=/d/ip@source whose source cannot be used: no server (REFUSED)
}

// HostEntry is an address from a hosts file or host-record.
type HostEntry struct {
	Name string
	Addr netip.Addr
	TTL  int // -1 = local-ttl
	// Reverse says whether the entry also answers PTR queries for Addr.
	Reverse bool
}

// Config is the typed form of the dnsmasq options Frontdesk implements.
//
// Each field is named after the dnsmasq option it comes from (Port: port=,
// NoHosts: no-hosts, RebindOK: rebind-domain-ok=, BogusNX: bogus-nxdomain=,
// ...); `man dnsmasq` is their reference. Has* fields say whether an
// option without a usable zero value was given.
type Config struct {
	Port           int
	ListenAddrs    []string
	Interfaces     []string // interface=: names, a trailing * is a wildcard
	ExceptIfaces   []string // except-interface=
	LocalService   string   // local-service[=net|host]
	NoHosts        bool
	AddnHosts      []string
	HostsDirs      []string
	ExpandHosts    bool
	Domain         string
	LocalTTL       uint32
	NegTTL         uint32
	MaxTTL         uint32
	HasMaxTTL      bool
	MaxCacheTTL    uint32
	HasMaxCacheTTL bool
	MinCacheTTL    uint32
	CacheSize      int
	NoNegcache     bool
	NoResolv       bool
	ResolvFiles    []string
	StrictOrder    bool
	AllServers     bool
	DomainNeeded   bool
	BogusPriv      bool
	StopRebind     bool
	RebindLocalOK  bool
	RebindOK       []string
	BogusNX        []netip.Prefix
	EDNSPacketMax  int
	LogQueries     bool
	CacheRR        []uint16 // cache-rr: types cached besides A, AAAA, CNAME, SRV, PTR
	FilterRR       []uint16 // filter-A, filter-AAAA, filter-rr: types removed from forwarded answers
	FilterANY      bool     // filter-rr=ANY
	NoRoundRobin   bool
	ForwardMax     int            // dns-forward-max: concurrent forwarded queries (default 150)
	Aliases        []AliasRule    // alias=: IPv4 rewriting of forwarded answers
	FilterWin2k    bool           // filterwin2k
	MinPort        int            // min-port: lowest source port of forwarded queries (0 = the system's choice)
	MaxPort        int            // max-port: highest source port of forwarded queries
	Synth          []SynthDomain  // synth-domain=
	IgnoreAddrs    []netip.Prefix // ignore-address=
	NoIdent        bool           // no-ident: no CHAOS answers
	LogDebug       bool           // log-debug: zap debug entries for forwarding and answers
	MaxTCP         int            // max-tcp-connections (0 = no limit)
	UseStale       bool           // use-stale-cache: expired cached answers are still given
	StaleMax       uint32         // use-stale-cache=n: at most n seconds after expiry (0 = no limit)
	Auth           AuthConfig     // auth-server, auth-zone, auth-soa, auth-sec-servers, auth-peer, auth-ttl
	IfaceNames     []IfaceName    // interface-name= and dynamic-host=, in order
	DomainRanges   []DomainRange  // domain=<name>,<range>: the domain of hosts in the range
	Localise       bool           // localise-queries
	DumpFile       string         // dumpfile=: pcap file of DNS packets
	DumpMask       uint32         // dumpmask=: which packets (default: dumpDefaultMask)
	DNSSEC         DNSSECConfig   // dnssec, proxy-dnssec, trust-anchor, dnssec-*
	EDNS           EDNSConfig     // add-subnet, strip-subnet, add-mac, strip-mac, add-cpe-id, umbrella
	QueryPort      int            // query-port: fixed source port of UDP queries (0 = one port the system picks)
	HasQueryPort   bool
	PortLimit      int           // port-limit: source ports one query may use over its retries (default 1)
	FastRetry      time.Duration // fast-dns-retry: first retry delay (0 = off)
	FastRetryFor   time.Duration // fast-dns-retry: how long retries go on
	LoopDetect     bool          // dns-loop-detect

	Servers  []Upstream // plain server= lines, in order
	Rules    []DomainRule
	SetRules []SetRule      // ipset= and nftset=: sets for the addresses of forwarded answers
	Connmark ConnmarkConfig // connmark-allowlist-enable, connmark-allowlist
	// Conntrack (conntrack): forwarded queries carry the client flow's
	// conntrack mark as their socket mark (SO_MARK).
	Conntrack bool
	Hosts     []HostEntry
	CNAMEs    []CNAMERec
	Records   []dns.RR // txt, mx, srv, ptr, naptr, caa, dns-rr (TTL 0 = local-ttl)
	MXHosts   []string // names with mx-host, for ANY
	MXTarget  string   // mx-target: default MX target (default: this machine's name)
	SelfMX    bool     // selfmx: each hosts name gets an MX to itself
	LocalMX   bool     // localmx: each hosts name gets an MX to the MX target

	mxDefault []*dns.MX // mx-host lines without a target

	// UnusableDefaults: dropUnusableSources took out plain servers whose
	// @source or @interface cannot be used (dnsmasq keeps them and fails
	// to send: REFUSED with EDE 23, not EDE 14).
	UnusableDefaults bool

	// Ignored lists the DHCP/TFTP/RA lines that were skipped.
	Ignored []Line
	// ControlPlane lists the enable-dbus and enable-ubus lines: accepted,
	// with a warning, since the admin API replaces them.
	ControlPlane []Line
}

type CNAMERec struct {
	Name, Target string
	TTL          int // -1 = local-ttl
}

func defaultConfig() *Config {
	return &Config{Port: 53, CacheSize: 150, EDNSPacketMax: 1232, ForwardMax: 150, PortLimit: 1, Auth: defaultAuth()}
}

// ParseLines parses dnsmasq options, following conf-file and conf-dir.
func ParseLines(lines []Line) (*Config, error) {
	c := defaultConfig()
	p := &parser{c: c, seen: map[string]bool{}, first: map[string]Line{}}
	if err := p.lines(lines, 0); err != nil {
		return nil, err
	}
	c.dropShadowedCatchAll()
	if err := p.checkRebindDotless(); err != nil {
		return nil, err
	}
	if len(c.Auth.Zones) > 0 && c.Auth.Server == "" {
		return nil, &LineError{p.first["auth-zone"], errors.New("auth-zone needs auth-server (the name of this server, for the SOA and NS records)")}
	}
	target := c.DefaultMXTarget()
	for _, mx := range c.mxDefault {
		mx.Mx = Presentation(target)
	}
	if c.MXTarget != "" && len(c.MXHosts) == 0 {
		// mx-target without mx-host: an MX for this machine's own name.
		if h, err := os.Hostname(); err == nil && ValidName(h) {
			// Preference 0 here, unlike mx-host's default 1 (measured).
			c.Records = append(c.Records, &dns.MX{Hdr: Hdr(h, dns.TypeMX), Mx: Presentation(c.MXTarget), Preference: 0})
			c.MXHosts = append(c.MXHosts, Canon(h))
		}
	}
	if err := c.DNSSEC.check(c.CacheSize); err != nil {
		return nil, &LineError{p.first["dnssec"], err}
	}
	return c, nil
}

type parser struct {
	c    *Config
	seen map[string]bool
	// first holds the first line of each option, for errors about the
	// whole configuration (auth-zone without auth-server, dnssec without
	// a root trust anchor).
	first map[string]Line
}

func (p *parser) lines(lines []Line, depth int) error {
	if depth > 16 {
		return errors.New("dnsmasq: conf-file/conf-dir nested too deeply")
	}
	for _, l := range lines {
		text, err := cleanLine(l.Text)
		if err != nil {
			return &LineError{l, err}
		}
		if text == "" {
			continue
		}
		name, val, hasVal := strings.Cut(text, "=")
		name = strings.TrimPrefix(name, "--")
		spec, known := byName[name]
		if known && spec.line != nil {
			if err := spec.line(p, l, val, hasVal, depth); err != nil {
				return err
			}
			continue
		}
		if isIgnored(name) {
			p.c.Ignored = append(p.c.Ignored, l)
			continue
		}
		if known && spec.Process {
			continue
		}
		if notYet[name] {
			return &LineError{l, fmt.Errorf("option --%s is a dnsmasq DNS option that Frontdesk does not implement yet", name)}
		}
		if !known {
			return &LineError{l, errors.New("bad option")}
		}
		if !spec.Quoted {
			val = unquoter.Replace(val)
		}
		if err := spec.parse(p, arg{name: name, val: val, has: hasVal}); err != nil {
			return &LineError{l, err}
		}
		if _, ok := p.first[name]; !ok {
			p.first[name] = l
		}
		if _, ok := p.first[rebindDotlessKey]; !ok && name == "rebind-domain-ok" && slices.Contains(p.c.RebindOK, "") {
			p.first[rebindDotlessKey] = l
		}
	}
	return nil
}

func (p *parser) include(l Line, files []string, depth int) error {
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		if p.seen[abs] {
			continue // dnsmasq reads each file once
		}
		p.seen[abs] = true
		ls, err := readConfFile(f)
		if err != nil {
			return &LineError{l, fmt.Errorf("cannot read %s: %w", f, UnwrapPathErr(err))}
		}
		if err := p.lines(ls, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// UnwrapPathErr is the error inside an *os.PathError (the file name is said
// elsewhere in the message), or err itself.
func UnwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func badArg(opt string) error { return fmt.Errorf("bad argument to --%s", opt) }

// MaxCacheSize is the largest cache-size dnsmasq keeps; larger values are
// cut to it.
const MaxCacheSize = 5000000

// CatchAll is the domain of rules for every name: address=/#/, server=/#/.
const CatchAll = "#"

// dropShadowedCatchAll removes the local catch-all rules (address=/#/ or
// server=/#/ without an address, address=, server=, local=) when the
// configuration has a plain server=: dnsmasq keeps both under the empty
// domain, and there a server wins over a local rule (domain-match.c,
// filter_servers; measured on 2.90), so such a rule never answers.
func (c *Config) dropShadowedCatchAll() {
	if len(c.Servers) == 0 {
		return
	}
	c.Rules = slices.DeleteFunc(c.Rules, func(r DomainRule) bool {
		return r.Domain == CatchAll && (r.NX || r.Local)
	})
}

// rebindDomains reads rebind-domain-ok=[/]<domain>[/<domain>...] as
// dnsmasq does (option.c, --rebind-domain-ok): one leading '/' is dropped,
// every '/' ends a domain, and the list ends at the end of the value or
// after a '/' that ends it. An empty domain ("", "/", the last of
// "/lan//") is kept: dnsmasq matches it to every dotless name.
func rebindDomains(val string) []string {
	val = strings.TrimPrefix(val, "/")
	var out []string
	for {
		d, rest, more := strings.Cut(val, "/")
		out = append(out, Canon(strings.Trim(d, " ")))
		val = strings.TrimLeft(rest, " ")
		if !more || val == "" {
			return out
		}
	}
}

// checkRebindDotless refuses an empty rebind-domain-ok domain together with
// stop-dns-rebind: dnsmasq exempts every dotless name from the rebind check
// then, which Frontdesk does not implement (a documented difference).
// Without stop-dns-rebind the domain means nothing and is accepted.
func (p *parser) checkRebindDotless() error {
	l, ok := p.first[rebindDotlessKey]
	if !ok || !p.c.StopRebind {
		return nil
	}
	return &LineError{l, errors.New("an empty domain in --rebind-domain-ok (every dotless name) is not implemented by Frontdesk together with --stop-dns-rebind")}
}

// rebindDotlessKey records in parser.first the first rebind-domain-ok line
// with an empty domain.
const rebindDotlessKey = "rebind-domain-ok (empty domain)"

// Canon lower-cases a domain and strips dots at its ends.
func Canon(s string) string { return strings.ToLower(strings.Trim(s, ".")) }

// ValidName reports whether s is a domain name dnsmasq accepts in a rule or
// record: not empty, valid in DNS, without spaces, slashes, commas or hashes.
func ValidName(s string) bool {
	s = strings.Trim(s, ".")
	if s == "" {
		return false
	}
	_, ok := dns.IsDomainName(s)
	return ok && !strings.ContainsAny(s, " /,#")
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// splitDomains splits "/d1/d2/rest" into the domains and the rest.
func splitDomains(val string) (domains []string, rest string, ok bool) {
	if !strings.HasPrefix(val, "/") {
		return nil, val, true
	}
	i := strings.LastIndex(val, "/")
	if i == 0 {
		return nil, "", false
	}
	return strings.Split(val[1:i], "/"), val[i+1:], true
}

// parseFastRetry reads fast-dns-retry=<delay ms>[,<total ms>].
func parseFastRetry(val string) (delay, total time.Duration, err error) {
	bad := errors.New("bad argument to --fast-dns-retry")
	f := strings.Split(val, ",")
	if len(f) > 2 {
		return 0, 0, bad
	}
	ms := []int{1000, 10000}
	for i, s := range f {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return 0, 0, bad
		}
		ms[i] = n
	}
	return time.Duration(ms[0]) * time.Millisecond, time.Duration(ms[1]) * time.Millisecond, nil
}

// ParseUpstream parses ip[#port][@interface][@source-ip[#port]].
func ParseUpstream(s string) (Upstream, error) {
	s, at, hasAt := strings.Cut(s, "@")
	u, err := parseServerAddr(s)
	if err != nil || !hasAt {
		return u, err
	}
	for _, part := range strings.Split(at, "@") {
		if part == "" {
			continue // dnsmasq accepts a bare '@'
		}
		host, port, hasPort := strings.Cut(part, "#")
		a, err := netip.ParseAddr(host)
		if err != nil {
			if u.Iface != "" {
				return Upstream{}, errors.New("interface can only be specified once")
			}
			if hasPort || len(part) >= 16 || strings.ContainsAny(part, " /") {
				return Upstream{}, errors.New("bad interface name")
			}
			u.Iface = part
			continue
		}
		if u.Source.IsValid() {
			return Upstream{}, errors.New("source address can only be specified once")
		}
		n := 0
		if hasPort {
			if n, err = strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return Upstream{}, errors.New("bad port")
			}
		}
		srv := netip.MustParseAddrPort(u.Addr).Addr()
		a = a.Unmap()
		if srv.Is4() && !a.Is4() {
			return Upstream{}, errors.New("cannot use IPv4 server address with IPv6 source address")
		}
		if srv.Is6() && a.Is4() {
			return Upstream{}, errors.New("cannot use IPv6 server address with IPv4 source address")
		}
		u.Source = netip.AddrPortFrom(a, uint16(n))
	}
	return u, nil
}

// parseServerAddr parses ip[#port].
func parseServerAddr(s string) (Upstream, error) {
	host, port := s, "53"
	if h, p, ok := strings.Cut(s, "#"); ok {
		host, port = h, p
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return Upstream{}, errors.New("bad port")
		}
	}
	host, _, _ = strings.Cut(host, "%") // zone ids are accepted and dropped
	a, err := netip.ParseAddr(host)
	if err != nil {
		var ok bool
		if a, ok = inetAton(host); !ok {
			return Upstream{}, errors.New("bad address")
		}
	}
	return Upstream{Addr: net.JoinHostPort(a.Unmap().String(), port)}, nil
}

func ruleDomain(d string) (string, bool, error) {
	wild := false
	if strings.HasPrefix(d, "*") {
		wild = true
		d = d[1:]
		if strings.HasPrefix(d, ".") { // *.example.com: subdomains only
			if !ValidName(d) {
				return "", false, errors.New("bad domain")
			}
			return "." + Canon(d), true, nil
		}
	}
	d = strings.TrimPrefix(d, ".") // historical /.example.com/ == /example.com/
	if d != "" && !ValidName(d) {
		return "", false, errors.New("bad domain")
	}
	return Canon(d), wild, nil
}

func (p *parser) server(opt, val string, hasVal bool) error {
	if !hasVal {
		return fmt.Errorf("missing argument to --%s", opt)
	}
	if val == "" {
		// No domain and no address: dnsmasq makes the local rule for
		// every name, as server=/#/ (option.c, --server).
		p.c.Rules = append(p.c.Rules, DomainRule{Domain: CatchAll, Local: true})
		return nil
	}
	doms, rest, ok := splitDomains(val)
	if !ok {
		return fmt.Errorf("bad domain in --%s", opt)
	}
	if doms == nil { // plain upstream
		u, err := ParseUpstream(rest)
		if err != nil {
			return fmt.Errorf("bad address in --%s: %v", opt, err)
		}
		p.c.Servers = append(p.c.Servers, u)
		return nil
	}
	for _, d := range doms {
		name, wild, err := ruleDomain(d)
		if d == CatchAll {
			// server=/#/ip is a plain server (dnsmasq gives both the
			// domain ""); /#/ and /#/# are rules for every name.
			if rest != "" && rest != "#" {
				u, err := ParseUpstream(rest)
				if err != nil {
					return fmt.Errorf("bad address in --%s: %v", opt, err)
				}
				p.c.Servers = append(p.c.Servers, u)
				continue
			}
			name, err = CatchAll, nil
		}
		if err != nil {
			return fmt.Errorf("bad domain in --%s", opt)
		}
		r := DomainRule{Domain: name, Wildcard: wild}
		switch rest {
		case "":
			r.Local = true
		case "#":
			r.Standard = true
		default:
			u, err := ParseUpstream(rest)
			if err != nil {
				return fmt.Errorf("bad address in --%s: %v", opt, err)
			}
			r.Servers = []Upstream{u}
		}
		p.c.Rules = append(p.c.Rules, r)
	}
	return nil
}

func (p *parser) address(val string) error {
	doms, rest, ok := splitDomains(val)
	if !ok {
		return errors.New("bad address in --address")
	}
	if doms == nil {
		// No domain (address=, address=1.2.3.4): dnsmasq gives the rule
		// to every name, as address=/#/ (option.c, --address).
		doms = []string{CatchAll}
	}
	var r DomainRule
	switch rest {
	case "":
		r.NX = true
	case "#":
		r.Null = true
	default:
		a, err := netip.ParseAddr(rest)
		if err != nil {
			return errors.New("bad address in --address")
		}
		r.Addrs = []netip.Addr{a.Unmap()}
	}
	for _, d := range doms {
		rr := r
		if d == CatchAll {
			rr.Domain = CatchAll
		} else {
			name, wild, err := ruleDomain(d)
			if err != nil || name == "" && !wild {
				return errors.New("bad domain in --address")
			}
			rr.Domain, rr.Wildcard = name, wild
		}
		p.c.Rules = append(p.c.Rules, rr)
	}
	return nil
}

func (p *parser) revServer(val string) error {
	spec, server, _ := strings.Cut(val, ",")
	pfx, err := parsePrefix(spec)
	if err != nil {
		return errors.New("bad prefix in --rev-server")
	}
	domains, err := ReverseZones(pfx)
	if err != nil {
		return err
	}
	r := DomainRule{Local: server == ""}
	if server != "" {
		u, err := ParseUpstream(server)
		if err != nil {
			return fmt.Errorf("bad address in --rev-server: %v", err)
		}
		r.Servers = []Upstream{u}
	}
	for _, d := range domains {
		rr := r
		rr.Domain = d
		p.c.Rules = append(p.c.Rules, rr)
	}
	return nil
}

// ReverseZones is the in-addr.arpa/ip6.arpa domain of a prefix; dnsmasq
// rounds the prefix down to a whole label (8 bits for IPv4, 4 for IPv6).
func ReverseZones(pfx netip.Prefix) ([]string, error) {
	a := pfx.Addr().Unmap()
	bits := pfx.Bits()
	if a.Is4() {
		if bits < 1 || bits > 32 {
			return nil, errors.New("bad prefix length in --rev-server")
		}
		b := a.As4()
		var labels []string
		for i := 0; i < bits/8; i++ {
			labels = append([]string{strconv.Itoa(int(b[i]))}, labels...)
		}
		return []string{strings.Join(append(labels, "in-addr", "arpa"), ".")}, nil
	}
	if bits < 1 || bits > 128 {
		return nil, errors.New("bad prefix length in --rev-server")
	}
	b := a.As16()
	var labels []string
	for i := 0; i < bits/4; i++ {
		nib := b[i/2] >> 4
		if i%2 == 1 {
			nib = b[i/2] & 0xf
		}
		labels = append([]string{strconv.FormatUint(uint64(nib), 16)}, labels...)
	}
	return []string{strings.Join(append(labels, "ip6", "arpa"), ".")}, nil
}

// hostRecord reads host-record=<name>[,<name>...],[<IPv4>],[<IPv6>][,<TTL>]
// as dnsmasq 2.90 does (option.c): the line needs a comma; each field is a
// TTL when it is all digits (an empty field too: TTL 0), else an IPv4 or
// IPv6 address (a later one of a family replaces an earlier one), else a
// name, wherever it stands. A line without names or addresses is accepted
// and defines nothing.
func (p *parser) hostRecord(val string) error {
	names, v4, v6, ttl, err := readHostRecord(val)
	if err != nil {
		return err
	}
	var addrs []netip.Addr
	for _, a := range []netip.Addr{v4, v6} {
		if a.IsValid() {
			addrs = append(addrs, a)
		}
	}
	for i, n := range names {
		for _, a := range addrs {
			// Only the first name answers the reverse (PTR) query.
			p.c.Hosts = append(p.c.Hosts, HostEntry{Name: n, Addr: a, TTL: ttl, Reverse: i == 0})
		}
	}
	return nil
}

// cname reads cname=<alias>[,<alias>...],<target>[,<ttl>] as dnsmasq
// does (option.c, --cname): with three fields or more, a last field of
// digits (or empty: 0) is the TTL; an empty alias or target is the root.
func (p *parser) cname(val string) error {
	parts := fields(val)
	ttl := -1
	if len(parts) >= 3 {
		if n, ok := atoiCheck(parts[len(parts)-1]); ok {
			ttl = wireTTL(n)
			parts = parts[:len(parts)-1]
		}
	}
	if len(parts) < 2 {
		return errors.New("bad CNAME")
	}
	target, ok := ownerName(parts[len(parts)-1])
	if !ok {
		return errors.New("bad CNAME")
	}
	for _, n := range parts[:len(parts)-1] {
		alias, ok := ownerName(n)
		if !ok {
			return errors.New("bad CNAME")
		}
		for _, existing := range p.c.CNAMEs {
			if existing.Name == alias {
				return errors.New("duplicate CNAME")
			}
		}
		p.c.CNAMEs = append(p.c.CNAMEs, CNAMERec{Name: alias, Target: target, TTL: ttl})
		if cnameLoop(p.c.CNAMEs, alias) {
			return fmt.Errorf("CNAME loop involving %s", alias)
		}
	}
	return nil
}

// cnameLoop reports whether following the cname chain from alias comes
// back to it. dnsmasq refuses a configuration with a loop (option.c, read_opts).
func cnameLoop(cnames []CNAMERec, alias string) bool {
	next := make(map[string]string, len(cnames))
	for _, c := range cnames {
		next[c.Name] = c.Target
	}
	cur := alias
	for range cnames {
		t, ok := next[cur]
		if !ok {
			return false
		}
		if t == alias {
			return true
		}
		cur = t
	}
	return false
}

// wireTTL is the TTL a record with the C int ttl from dnsmasq's atoi has on
// the wire; -1 stays -1, dnsmasq's "local-ttl".
func wireTTL(n int32) int {
	if n < -1 {
		return int(uint32(n))
	}
	return int(n)
}

// parseType reads an RR type by name (MX) or number (15, TYPE15).
func parseType(s string) (uint16, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if t, ok := dns.StringToType[s]; ok {
		return t, true
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "TYPE"), 10, 16)
	return uint16(n), err == nil && n > 0
}

// DefaultMXTarget is the default MX target: mx-target, else this machine's name.
func (c *Config) DefaultMXTarget() string {
	if c.MXTarget != "" {
		return c.MXTarget
	}
	h, _ := os.Hostname()
	return h
}

// AliasRule is one alias= line: IPv4 addresses from start to end (or
// matching start under mask) are rewritten into to, keeping the host bits
// outside mask.
type AliasRule struct {
	start, end, to, mask uint32
	isRange              bool
}

func ip4(s string) (uint32, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Unmap().Is4() {
		return 0, false
	}
	b := a.Unmap().As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}

func parseAlias(val string) (AliasRule, error) {
	bad := errors.New("bad argument to --alias")
	f := strings.Split(val, ",")
	if len(f) < 2 || len(f) > 3 {
		return AliasRule{}, bad
	}
	r := AliasRule{mask: 0xffffffff}
	var ok bool
	if lo, hi, isRange := strings.Cut(f[0], "-"); isRange {
		var ok2 bool
		r.start, ok = ip4(lo)
		r.end, ok2 = ip4(hi)
		if !ok || !ok2 || r.end < r.start {
			return AliasRule{}, bad
		}
		r.isRange = true
	} else if r.start, ok = ip4(f[0]); !ok {
		return AliasRule{}, bad
	}
	if r.to, ok = ip4(f[1]); !ok {
		return AliasRule{}, bad
	}
	if len(f) == 3 {
		if r.mask, ok = ip4(f[2]); !ok {
			return AliasRule{}, bad
		}
	}
	return r, nil
}

// Apply rewrites a, reporting whether the rule matched.
func (r AliasRule) Apply(a uint32) (uint32, bool) {
	if r.isRange {
		if a < r.start || a > r.end {
			return a, false
		}
	} else if a&r.mask != r.start&r.mask {
		return a, false
	}
	return r.to&r.mask | a&^r.mask, true
}
