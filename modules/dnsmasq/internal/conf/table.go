package conf

import (
	"math"
	"sort"
)

// Arity says whether an option takes a value.
type Arity int

const (
	// Flag options take no value: `name` alone; `name=x` is refused.
	Flag Arity = iota
	// Required options need `name=value` (the value may be empty where
	// dnsmasq allows it).
	Required
	// Optional options are written `name` or `name=value`.
	Optional
)

// Kind is what one comma-separated field of a value holds; the differential
// tester's generator draws values by it.
type Kind string

// The kinds of fields.
const (
	KindNumber   Kind = "number"   // a decimal number
	KindTTL      Kind = "ttl"      // seconds, dnsmasq's atoi (the empty field is 0)
	KindPort     Kind = "port"     // 0-65535
	KindAddr     Kind = "addr"     // an IPv4 or IPv6 address
	KindPrefix   Kind = "prefix"   // an address or address/length
	KindName     Kind = "name"     // a domain name
	KindUpstream Kind = "upstream" // ip[#port][@interface][@source[#port]]
	KindIface    Kind = "iface"    // a network interface name
	KindFile     Kind = "file"     // a file or directory path
	KindRRType   Kind = "rrtype"   // an RR type by name or number
	KindText     Kind = "text"     // free text, quoted strings allowed
	KindKeyword  Kind = "keyword"  // one of a few fixed words
	KindHex      Kind = "hex"      // hex digits
	KindMark     Kind = "mark"     // a connmark: number[/mask]
	KindSet      Kind = "set"      // an ipset or nftables set name
	KindCommand  Kind = "command"  // a shell command line
)

// Spec is one option of the table: how it is written, what the generator
// needs to know to write it, and the function that parses it.
type Spec struct {
	// Name is the option as written, without "--".
	Name string
	// Arity says whether the option takes a value.
	Arity Arity
	// Fields are the kinds of the value's comma-separated fields, in
	// order; with Variadic the last one repeats.
	Fields   []Kind
	Variadic bool
	// Domains: the value starts with a /domain/[domain/...] list.
	Domains bool
	// Repeat: each line adds to the configuration (for other options the
	// last line wins, or a second one changes nothing).
	Repeat bool
	// Quoted: the fields are split before quotes are undone, so that a
	// quoted comma is not a field separator.
	Quoted bool
	// Process: the option is about how the dnsmasq daemon runs, not what
	// it answers; it is accepted and ignored.
	Process bool
	// Doc is a short description.
	Doc string

	parse parseFunc // the option's value into the Config
	line  lineFunc  // for options that read more lines or keep the line
}

// parseFunc parses one option into p.c; its error is wrapped in a
// *LineError naming the line.
type parseFunc func(p *parser, o arg) error

// lineFunc handles an option that needs its line: includes, enable-dbus.
type lineFunc func(p *parser, l Line, val string, hasVal bool, depth int) error

// table is every option Frontdesk's parser knows, besides the DHCP, TFTP
// and router-advertisement options (options.go), which are skipped.
var table = []Spec{
	// Includes and the line itself.
	{Name: "conf-file", Arity: Required, Fields: []Kind{KindFile}, Repeat: true, Doc: "read another configuration file", line: (*parser).confFile},
	{Name: "conf-dir", Arity: Required, Fields: []Kind{KindFile, KindText}, Variadic: true, Repeat: true, Doc: "read the files of a directory (,.ext to skip, ,*.ext to match)", line: (*parser).confDir},
	{Name: "servers-file", Arity: Required, Fields: []Kind{KindFile}, Repeat: true, Doc: "read server= and rev-server= lines from a file", line: (*parser).serversFile},
	{Name: "conf-script", Arity: Required, Fields: []Kind{KindCommand}, Repeat: true, Doc: "read the output of a shell command as configuration",
		line: func(p *parser, l Line, val string, _ bool, depth int) error { return p.confScript(l, val, depth) }},
	{Name: "enable-dbus", Arity: Optional, Fields: []Kind{KindText}, Doc: "D-Bus control: accepted with a warning (the admin API replaces it)", line: (*parser).controlPlane},
	{Name: "enable-ubus", Arity: Optional, Fields: []Kind{KindText}, Doc: "ubus control: accepted with a warning (the admin API replaces it)", line: (*parser).controlPlane},

	// How the daemon runs: accepted and ignored.
	{Name: "bind-interfaces", Arity: Flag, Process: true, Doc: "bind to interface addresses only", parse: accept},
	{Name: "bind-dynamic", Arity: Flag, Process: true, Doc: "bind to interface addresses as they come", parse: accept},
	{Name: "keep-in-foreground", Arity: Flag, Process: true, Doc: "do not fork", parse: accept},
	{Name: "no-daemon", Arity: Flag, Process: true, Doc: "debug mode, do not fork", parse: accept},
	{Name: "user", Arity: Required, Fields: []Kind{KindText}, Process: true, Doc: "user to run as", parse: accept},
	{Name: "group", Arity: Required, Fields: []Kind{KindText}, Process: true, Doc: "group to run as", parse: accept},
	{Name: "pid-file", Arity: Optional, Fields: []Kind{KindFile}, Process: true, Doc: "where to write the pid", parse: accept},
	{Name: "log-facility", Arity: Required, Fields: []Kind{KindText}, Process: true, Doc: "syslog facility or log file", parse: accept},
	{Name: "log-async", Arity: Optional, Fields: []Kind{KindNumber}, Process: true, Doc: "asynchronous logging", parse: accept},
	{Name: "no-poll", Arity: Flag, Process: true, Doc: "do not poll resolv.conf", parse: accept},
	{Name: "clear-on-reload", Arity: Flag, Process: true, Doc: "clear the cache when resolv.conf changes", parse: accept},

	// Listening.
	{Name: "port", Arity: Required, Fields: []Kind{KindPort}, Doc: "DNS port (0: no DNS)", parse: intIn(0, 65535, func(c *Config, n int) { c.Port = n })},
	{Name: "listen-address", Arity: Required, Fields: []Kind{KindAddr}, Variadic: true, Repeat: true, Doc: "addresses to listen on", parse: optListenAddress},
	{Name: "interface", Arity: Required, Fields: []Kind{KindIface}, Variadic: true, Repeat: true, Doc: "interfaces to listen on (* wildcard)", parse: optInterfaces},
	{Name: "except-interface", Arity: Required, Fields: []Kind{KindIface}, Variadic: true, Repeat: true, Doc: "interfaces not to listen on", parse: optInterfaces},
	{Name: "local-service", Arity: Optional, Fields: []Kind{KindKeyword}, Doc: "answer only local networks (net) or this host (host)", parse: optLocalService},
	{Name: "max-tcp-connections", Arity: Required, Fields: []Kind{KindNumber}, Doc: "concurrent TCP connections", parse: intIn(1, math.MaxInt, func(c *Config, n int) { c.MaxTCP = n })},

	// Hosts and local names.
	{Name: "no-hosts", Arity: Flag, Doc: "do not read /etc/hosts", parse: flag(func(c *Config) { c.NoHosts = true })},
	{Name: "addn-hosts", Arity: Required, Fields: []Kind{KindFile}, Repeat: true, Doc: "another hosts file or directory", parse: optAddnHosts},
	{Name: "hostsdir", Arity: Required, Fields: []Kind{KindFile}, Repeat: true, Doc: "a directory of hosts files, re-read on change", parse: optHostsDir},
	{Name: "expand-hosts", Arity: Flag, Doc: "add the domain to plain hosts names", parse: flag(func(c *Config) { c.ExpandHosts = true })},
	{Name: "domain", Arity: Required, Fields: []Kind{KindName, KindPrefix, KindAddr}, Repeat: true, Doc: "the local domain, or the domain of an address range", parse: optDomain},
	{Name: "host-record", Arity: Required, Fields: []Kind{KindName, KindAddr, KindAddr, KindTTL}, Repeat: true, Quoted: true, Doc: "A/AAAA (and PTR) records for names", parse: optHostRecord},
	{Name: "cname", Arity: Required, Fields: []Kind{KindName, KindName, KindTTL}, Repeat: true, Quoted: true, Doc: "an alias of a local name", parse: optCNAME},
	{Name: "interface-name", Arity: Required, Fields: []Kind{KindName, KindIface}, Repeat: true, Doc: "a name for an interface's addresses", parse: optInterfaceName},
	{Name: "dynamic-host", Arity: Required, Fields: []Kind{KindName, KindAddr, KindIface}, Repeat: true, Doc: "a name for an address built on an interface's network", parse: optInterfaceName},
	{Name: "synth-domain", Arity: Required, Fields: []Kind{KindName, KindPrefix, KindAddr, KindText}, Repeat: true, Doc: "names made from addresses in a range", parse: optSynthDomain},
	{Name: "localise-queries", Arity: Flag, Doc: "answer with the hosts address on the query's interface network", parse: flag(func(c *Config) { c.Localise = true })},

	// Records.
	{Name: "txt-record", Arity: Required, Fields: []Kind{KindName, KindText}, Variadic: true, Repeat: true, Quoted: true, Doc: "a TXT record", parse: record(2, "bad TXT record", txtRecord)},
	{Name: "mx-host", Arity: Required, Fields: []Kind{KindName, KindName, KindNumber}, Repeat: true, Quoted: true, Doc: "an MX record", parse: record(3, "bad MX name", mxHost)},
	{Name: "srv-host", Arity: Required, Fields: []Kind{KindName, KindName, KindPort, KindNumber, KindNumber}, Repeat: true, Quoted: true, Doc: "an SRV record", parse: record(5, "bad SRV record", srvHost)},
	{Name: "ptr-record", Arity: Required, Fields: []Kind{KindName, KindName}, Repeat: true, Quoted: true, Doc: "a PTR record", parse: record(2, "bad PTR record", ptrRecord)},
	{Name: "naptr-record", Arity: Required, Fields: []Kind{KindName, KindNumber, KindNumber, KindText, KindText, KindText, KindName}, Repeat: true, Quoted: true, Doc: "a NAPTR record", parse: record(7, "bad NAPTR record", naptrRecord)},
	{Name: "caa-record", Arity: Required, Fields: []Kind{KindName, KindNumber, KindText, KindText}, Repeat: true, Quoted: true, Doc: "a CAA record", parse: record(4, "bad CAA record", caaRecord)},
	{Name: "dns-rr", Arity: Required, Fields: []Kind{KindName, KindRRType, KindHex}, Repeat: true, Quoted: true, Doc: "a record of any type, in hex", parse: record(3, "bad RR record", dnsRR)},
	{Name: "mx-target", Arity: Required, Fields: []Kind{KindName}, Doc: "the default MX target", parse: optMXTarget},
	{Name: "selfmx", Arity: Flag, Doc: "an MX to itself for each hosts name", parse: flag(func(c *Config) { c.SelfMX = true })},
	{Name: "localmx", Arity: Flag, Doc: "an MX to the MX target for each hosts name", parse: flag(func(c *Config) { c.LocalMX = true })},

	// Forwarding.
	{Name: "server", Arity: Required, Fields: []Kind{KindUpstream}, Domains: true, Repeat: true, Doc: "an upstream server, for every name or for domains", parse: optServer},
	{Name: "local", Arity: Required, Fields: []Kind{KindUpstream}, Domains: true, Repeat: true, Doc: "domains answered locally only", parse: optServer},
	{Name: "address", Arity: Optional, Fields: []Kind{KindAddr}, Domains: true, Repeat: true, Doc: "an address (or NXDOMAIN, or null) for domains", parse: optAddress},
	{Name: "rev-server", Arity: Required, Fields: []Kind{KindPrefix, KindUpstream}, Repeat: true, Doc: "an upstream for the reverse zone of a prefix", parse: optRevServer},
	{Name: "no-resolv", Arity: Flag, Doc: "do not read resolv.conf", parse: flag(func(c *Config) { c.NoResolv = true })},
	{Name: "resolv-file", Arity: Optional, Fields: []Kind{KindFile}, Repeat: true, Doc: "where to read upstream servers", parse: optResolvFile},
	{Name: "strict-order", Arity: Flag, Doc: "try servers in the order given", parse: flag(func(c *Config) { c.StrictOrder = true })},
	{Name: "all-servers", Arity: Flag, Doc: "ask every server at once", parse: flag(func(c *Config) { c.AllServers = true })},
	{Name: "dns-forward-max", Arity: Required, Fields: []Kind{KindNumber}, Doc: "concurrent forwarded queries", parse: intIn(1, math.MaxInt, func(c *Config, n int) { c.ForwardMax = n })},
	{Name: "query-port", Arity: Required, Fields: []Kind{KindPort}, Doc: "fixed source port of forwarded queries", parse: intIn(0, 65535, func(c *Config, n int) { c.QueryPort, c.HasQueryPort = n, true })},
	{Name: "min-port", Arity: Required, Fields: []Kind{KindPort}, Doc: "lowest source port of forwarded queries", parse: intIn(1, 65535, func(c *Config, n int) { c.MinPort = n })},
	{Name: "max-port", Arity: Required, Fields: []Kind{KindPort}, Doc: "highest source port of forwarded queries", parse: intIn(1, 65535, func(c *Config, n int) { c.MaxPort = n })},
	{Name: "port-limit", Arity: Required, Fields: []Kind{KindNumber}, Doc: "source ports one query may use", parse: intIn(1, math.MaxInt, func(c *Config, n int) { c.PortLimit = n })},
	{Name: "fast-dns-retry", Arity: Optional, Fields: []Kind{KindNumber, KindNumber}, Doc: "retry forwarded queries (delay, total ms)", parse: optFastDNSRetry},
	{Name: "dns-loop-detect", Arity: Flag, Doc: "detect forwarding loops", parse: flag(func(c *Config) { c.LoopDetect = true })},
	{Name: "edns-packet-max", Arity: Required, Fields: []Kind{KindNumber}, Doc: "largest EDNS UDP packet", parse: intIn(512, 65535, func(c *Config, n int) { c.EDNSPacketMax = n })},
	{Name: "conntrack", Arity: Flag, Doc: "forwarded queries carry the client flow's conntrack mark", parse: flag(func(c *Config) { c.Conntrack = true })},

	// Filtering and protection.
	{Name: "domain-needed", Arity: Flag, Doc: "never forward plain names", parse: flag(func(c *Config) { c.DomainNeeded = true })},
	{Name: "bogus-priv", Arity: Flag, Doc: "never forward reverse queries for private ranges", parse: flag(func(c *Config) { c.BogusPriv = true })},
	{Name: "stop-dns-rebind", Arity: Flag, Doc: "drop upstream answers with private addresses", parse: flag(func(c *Config) { c.StopRebind = true })},
	{Name: "rebind-localhost-ok", Arity: Flag, Doc: "allow 127.0.0.0/8 and ::1 from upstream", parse: flag(func(c *Config) { c.RebindLocalOK = true })},
	{Name: "rebind-domain-ok", Arity: Required, Fields: []Kind{KindName}, Variadic: true, Domains: true, Repeat: true, Doc: "domains exempt from the rebind check", parse: optRebindDomainOK},
	{Name: "bogus-nxdomain", Arity: Required, Fields: []Kind{KindPrefix}, Repeat: true, Doc: "answers with this address become NXDOMAIN", parse: optBogusNXDomain},
	{Name: "ignore-address", Arity: Required, Fields: []Kind{KindPrefix}, Repeat: true, Doc: "upstream answers with this address are dropped", parse: optIgnoreAddress},
	{Name: "alias", Arity: Required, Fields: []Kind{KindAddr, KindAddr, KindAddr}, Repeat: true, Doc: "rewrite IPv4 addresses of forwarded answers", parse: optAlias},
	{Name: "filter-A", Arity: Flag, Doc: "remove A records from answers", parse: optFilterA},
	{Name: "filter-AAAA", Arity: Flag, Doc: "remove AAAA records from answers", parse: optFilterAAAA},
	{Name: "filter-rr", Arity: Required, Fields: []Kind{KindRRType}, Variadic: true, Repeat: true, Doc: "remove records of these types from answers", parse: optRRTypes},
	{Name: "filterwin2k", Arity: Flag, Doc: "do not forward queries Windows sends needlessly", parse: flag(func(c *Config) { c.FilterWin2k = true })},
	{Name: "connmark-allowlist-enable", Arity: Optional, Fields: []Kind{KindMark}, Doc: "answer only names allowed for the client's connmark", parse: optConnmarkAllowlistEnable},
	{Name: "connmark-allowlist", Arity: Required, Fields: []Kind{KindMark, KindName}, Variadic: true, Repeat: true, Doc: "names allowed for a connmark", parse: optConnmarkAllowlist},
	{Name: "ipset", Arity: Required, Fields: []Kind{KindSet}, Variadic: true, Domains: true, Repeat: true, Doc: "add answer addresses of domains to ipsets", parse: optSet},
	{Name: "nftset", Arity: Required, Fields: []Kind{KindSet}, Variadic: true, Domains: true, Repeat: true, Doc: "add answer addresses of domains to nftables sets", parse: optSet},

	// Cache and TTLs.
	{Name: "cache-size", Arity: Required, Fields: []Kind{KindNumber}, Doc: "cache entries (0: no cache)", parse: optCacheSize},
	{Name: "no-negcache", Arity: Flag, Doc: "do not cache negative answers", parse: flag(func(c *Config) { c.NoNegcache = true })},
	{Name: "cache-rr", Arity: Required, Fields: []Kind{KindRRType}, Variadic: true, Repeat: true, Doc: "cache these types too", parse: optRRTypes},
	{Name: "local-ttl", Arity: Required, Fields: []Kind{KindTTL}, Doc: "TTL of local answers", parse: optLocalTTL},
	{Name: "neg-ttl", Arity: Required, Fields: []Kind{KindTTL}, Doc: "TTL of negative answers without SOA", parse: optNegTTL},
	{Name: "max-ttl", Arity: Required, Fields: []Kind{KindTTL}, Doc: "largest TTL given to clients", parse: optMaxTTL},
	{Name: "max-cache-ttl", Arity: Required, Fields: []Kind{KindTTL}, Doc: "largest TTL kept in the cache", parse: optMaxCacheTTL},
	{Name: "min-cache-ttl", Arity: Required, Fields: []Kind{KindTTL}, Doc: "smallest TTL kept in the cache (at most 3600)", parse: optMinCacheTTL},
	{Name: "use-stale-cache", Arity: Optional, Fields: []Kind{KindNumber}, Doc: "answer from expired cache entries", parse: optUseStaleCache},
	{Name: "no-round-robin", Arity: Flag, Doc: "do not rotate cached records", parse: flag(func(c *Config) { c.NoRoundRobin = true })},

	// EDNS options of forwarded queries.
	{Name: "add-subnet", Arity: Optional, Fields: []Kind{KindPrefix, KindPrefix}, Doc: "add the client subnet (ECS)", parse: optAddSubnet},
	{Name: "strip-subnet", Arity: Flag, Doc: "remove the client subnet option", parse: flag(func(c *Config) { c.EDNS.StripSubnet = true })},
	{Name: "add-mac", Arity: Optional, Fields: []Kind{KindKeyword}, Doc: "add the client's MAC address", parse: optAddMAC},
	{Name: "strip-mac", Arity: Flag, Doc: "remove the MAC address option", parse: flag(func(c *Config) { c.EDNS.StripMAC = true })},
	{Name: "add-cpe-id", Arity: Required, Fields: []Kind{KindText}, Doc: "add a CPE id", parse: optAddCPEID},
	{Name: "umbrella", Arity: Optional, Fields: []Kind{KindKeyword}, Variadic: true, Doc: "add Cisco Umbrella data", parse: optUmbrella},

	// DNSSEC (dnssec.go).
	{Name: "dnssec", Arity: Flag, Doc: "validate forwarded answers", parse: flag(func(c *Config) { c.DNSSEC.Validate = true })},
	{Name: "proxy-dnssec", Arity: Flag, Doc: "pass on the upstream's AD bit", parse: flag(func(c *Config) { c.DNSSEC.Proxy = true })},
	{Name: "trust-anchor", Arity: Required, Fields: []Kind{KindName, KindNumber, KindNumber, KindNumber, KindHex}, Repeat: true, Doc: "a DS trust anchor", parse: optTrustAnchor},
	{Name: "dnssec-check-unsigned", Arity: Optional, Fields: []Kind{KindKeyword}, Doc: "check that unsigned answers should be", parse: optDNSSECCheckUnsigned},
	{Name: "dnssec-no-timecheck", Arity: Flag, Doc: "do not check signature times", parse: flag(func(c *Config) { c.DNSSEC.NoTimecheck = true })},
	{Name: "dnssec-timestamp", Arity: Required, Fields: []Kind{KindFile}, Doc: "check times once the clock passes this file's time", parse: optDNSSECTimestamp},
	{Name: "dnssec-debug", Arity: Flag, Doc: "set CD upstream and pass bogus answers", parse: flag(func(c *Config) { c.DNSSEC.Debug = true })},
	{Name: "dnssec-limits", Arity: Optional, Fields: []Kind{KindNumber, KindNumber, KindNumber, KindNumber}, Doc: "validation work limits", parse: optDNSSECLimits},

	// Authoritative mode (authconfig.go).
	{Name: "auth-server", Arity: Required, Fields: []Kind{KindName, KindIface}, Variadic: true, Doc: "this server's name, and where it answers authoritatively", parse: authValue(authServer)},
	{Name: "auth-zone", Arity: Required, Fields: []Kind{KindName, KindPrefix}, Variadic: true, Repeat: true, Doc: "a zone answered authoritatively", parse: authValue(authZone)},
	{Name: "auth-soa", Arity: Required, Fields: []Kind{KindNumber, KindName, KindNumber, KindNumber, KindNumber}, Doc: "SOA fields of the zones", parse: authValue(authSOA)},
	{Name: "auth-sec-servers", Arity: Required, Fields: []Kind{KindName}, Variadic: true, Repeat: true, Doc: "secondary servers of the zones", parse: authValue(authSecServers)},
	{Name: "auth-peer", Arity: Required, Fields: []Kind{KindAddr}, Variadic: true, Repeat: true, Doc: "addresses allowed zone transfers", parse: authValue(authPeer)},
	{Name: "auth-ttl", Arity: Required, Fields: []Kind{KindTTL}, Doc: "TTL of authoritative answers", parse: authValue(authTTL)},

	// Logging and diagnostics.
	{Name: "log-queries", Arity: Optional, Fields: []Kind{KindKeyword}, Doc: "log each query (extra, proto: more detail)", parse: optLogQueries},
	{Name: "log-debug", Arity: Flag, Doc: "debug log entries for forwarding and answers", parse: flag(func(c *Config) { c.LogDebug = true })},
	{Name: "no-ident", Arity: Flag, Doc: "no CHAOS version.bind and friends", parse: flag(func(c *Config) { c.NoIdent = true })},
	{Name: "dumpfile", Arity: Required, Fields: []Kind{KindFile}, Doc: "pcap file of DNS packets", parse: optDumpFile},
	{Name: "dumpmask", Arity: Required, Fields: []Kind{KindNumber}, Doc: "which packets go to the dump file", parse: optDumpMask},
}

// byName indexes table; built in init, since the include functions reach
// the table again through parser.lines.
var byName map[string]*Spec

func init() {
	byName = make(map[string]*Spec, len(table))
	for i := range table {
		s := &table[i]
		if _, dup := byName[s.Name]; dup {
			panic("conf: option " + s.Name + " twice in the table")
		}
		byName[s.Name] = s
	}
}

// Options is the option table, sorted by name: every option the parser
// knows besides the skipped DHCP, TFTP and router-advertisement ones.
func Options() []Spec {
	out := make([]Spec, len(table))
	copy(out, table)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
