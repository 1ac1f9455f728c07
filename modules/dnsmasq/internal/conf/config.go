package conf

import (
	"net/netip"
	"os"
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

// CNAMERec is one alias of a cname= line.
type CNAMERec struct {
	Name, Target string
	TTL          int // -1 = local-ttl
}

func defaultConfig() *Config {
	return &Config{Port: 53, CacheSize: 150, EDNSPacketMax: 1232, ForwardMax: 150, PortLimit: 1, Auth: defaultAuth()}
}

// MaxCacheSize is the largest cache-size dnsmasq keeps; larger values are
// cut to it.
const MaxCacheSize = 5000000

// CatchAll is the domain of rules for every name: address=/#/, server=/#/.
const CatchAll = "#"

// DefaultMXTarget is the default MX target: mx-target, else this machine's name.
func (c *Config) DefaultMXTarget() string {
	if c.MXTarget != "" {
		return c.MXTarget
	}
	h, _ := os.Hostname()
	return h
}
