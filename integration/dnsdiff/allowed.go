package dnsdiff

import (
	"slices"
	"strconv"
	"strings"
)

// Allowed is a documented difference: Frontdesk answers otherwise on purpose,
// and the README says why. Every difference not matched by an entry counts as
// unexplained.
type Allowed struct {
	// Name identifies the entry in reports.
	Name string
	// Reason is why the difference is intended.
	Reason string
	// README is where the module README documents it.
	README string
	// Match reports whether the difference (its signature, in the case that
	// showed it) is this entry's.
	Match func(c *Case, sig string) bool
}

// AllowedDifferences is the list of documented answer differences.
var AllowedDifferences = []Allowed{
	{
		Name: "small-cache-eviction",
		Reason: "with a cache-size below the default, which answer is evicted first differs: dnsmasq's " +
			"cache-size counts its cache records (each address, CNAME, negative entry and SOA, the " +
			"non-terminals of its local names), Frontdesk's counts answers; only whether the upstream is " +
			"asked again (and so the TTLs) may differ, and whether a cached negative answer still has its " +
			"SOA (a record of its own in dnsmasq's cache, evicted apart). A difference of another kind " +
			"in such a configuration counts as this one only when the run shows it: the case, run again " +
			"without its cache-size line, is identical (an answer from the cache and one from upstream " +
			"differ in more than TTLs: aa for a name that exists locally, the case of owner names, the " +
			"Filtered EDE of a filter-* question)",
		README: "modules/dnsmasq/README.md, Differences: cache-size",
		Match: func(c *Case, sig string) bool {
			n := cacheSize(c)
			return n > 0 && n < 150 && onlyParts(sig, "upstream fewer", "upstream more", "answer ttl",
				"authority ttl", "additional ttl", "authority []/[SOA]", "authority [SOA]/[]")
		},
	},
	{
		Name: "cached-name-case",
		Reason: "the spelling of names in answers from the cache: dnsmasq writes a cached CNAME's target " +
			"as the name of the cache record it points at, which the last insertion of that name spelled " +
			"(a client's question in other case takes a freed record again under its own spelling, " +
			"really_insert's target_crec), and the records after it as a pointer to that target; " +
			"Frontdesk follows the spelling of the question that cached them and of the CNAME's rdata, " +
			"and respells a chain when a record it stores replaces one spelled otherwise, but keeps no " +
			"cache record per type, so which spelling wins can differ. Names compare without case " +
			"(RFC 4343): only letters' case may differ",
		README: "modules/dnsmasq/README.md, Differences: the case of cached names",
		Match: func(_ *Case, sig string) bool {
			for _, p := range strings.Split(sig, "; ") {
				if !strings.Contains(p, " case [") {
					return false
				}
			}
			return true
		},
	},
	{
		Name: "bogus-nxdomain-soa",
		Reason: "dnsmasq 2.90 caches the NXDOMAIN that bogus-nxdomain makes without setting the record's " +
			"SOA offset (rfc1035.c check_for_bogus_wildcard calls cache_insert with no address), so whether " +
			"the cached answer later carries an SOA, and which, follows what the reused record held before " +
			"(the bytes of a pointer); Frontdesk's has none",
		README: "modules/dnsmasq/README.md, Differences: bogus-nxdomain",
		Match: func(c *Case, sig string) bool {
			return slices.ContainsFunc(c.Config, func(l string) bool { return optionName(l) == "bogus-nxdomain" }) &&
				onlyParts(sig, "authority [SOA]/[]", "authority []/[SOA]")
		},
	},
	{
		Name: "tcp-child-cache-timing",
		Reason: "dnsmasq answers a TCP question in a forked child, which hands what it cached to the " +
			"parent through a pipe that the parent reads in its event loop; a question that reaches the " +
			"parent before it has read the pipe is answered from the cache without them (a regression " +
			"case that differs every time on a quiet machine answered alike once in a replay under load). " +
			"Allowed only for a case with a TCP question whose whole example, run three times again, " +
			"answers alike every time",
		README: "modules/dnsmasq/README.md, Differences: TCP and the cache",
		Match:  func(*Case, string) bool { return false }, // only by a run (TCPTimingOnly)
	},
	{
		Name: "one-record-cache",
		Reason: "cache-size=1 cannot hold a CNAME and its target at once: dnsmasq keeps the last record " +
			"it inserted (the chain's target, or nothing usable), Frontdesk the last answer with its chain, " +
			"so what a later question finds in the cache (a cached target or a local answer) differs",
		README: "modules/dnsmasq/README.md, Differences: cache-size",
		Match:  func(c *Case, _ string) bool { return cacheSize(c) == 1 },
	},
	{
		Name: "one-second-ttl-boundary",
		Reason: "an upstream record with a TTL of 0 or 1 s expires at a second boundary on both sides " +
			"(whole seconds, as dnsmasq's time(2)); the tester asks dnsmasq first and Frontdesk a few ms " +
			"later (and begins no such pair in the last 15 ms of a second), so a boundary between the two " +
			"makes one side ask the upstream again: only the upstream count (and the TTLs) may differ, " +
			"or more when the case, run again, answers the same three times (BoundaryOnly)",
		README: "modules/dnsmasq/README.md, Differences: TTL countdowns",
		Match: func(c *Case, sig string) bool {
			// A boundary makes one side ask again: a TTL difference
			// without one is something else (a CNAME loop's uncapped
			// records, say).
			return boundaryCandidate(c, sig) && onlyParts(sig, "upstream fewer", "upstream more", "answer ttl", "authority ttl", "additional ttl")
		},
	},
}

// EvictionOnly reports whether the difference of c, a case whose
// configuration sets a cache-size below dnsmasq's default (150) but above
// 1, goes away with the default: the case runs again without its
// cache-size line, and identical answers say that the difference came from
// which records each side's smaller cache had evicted (see
// small-cache-eviction). Whatever the signature: from the cache or from
// upstream, an answer differs in more than TTLs (aa for a name that exists
// locally, the case of owner names, the Filtered EDE).
func EvictionOnly(s *Servers, c *Case) (bool, error) {
	if n := cacheSize(c); n <= 1 || n >= 150 {
		return false, nil
	}
	d := c.Clone()
	d.Config = slices.DeleteFunc(d.Config, func(l string) bool { return optionName(l) == "cache-size" })
	o, err := Check(s, d, "")
	if err != nil {
		return false, err
	}
	return o.Signature == "", nil
}

// boundaryReplays is how many times BoundaryOnly runs a case again.
const boundaryReplays = 3

// BoundaryOnly reports whether the difference (signature sig) of c is a
// second boundary that fell between the two servers' answers (see
// one-second-ttl-boundary) though more than the upstream count and TTLs
// differ: a fresh answer and a cached one can differ in form (filter-AAAA's
// Filtered EDE is on the cached one only, a NODATA from upstream carries
// its SOA). It holds when c's zone has a TTL of at most one second, one
// side asked upstream more often, and c, run boundaryReplays times again,
// answers the same every time: a boundary seldom falls twice in one place,
// a real difference recurs.
func BoundaryOnly(s *Servers, c *Case, sig string) (bool, error) {
	if !boundaryCandidate(c, sig) {
		return false, nil
	}
	return answersAlike(s, c, boundaryReplays)
}

// TCPTimingOnly reports whether the difference of c, a case with a
// question over TCP, is the timing of dnsmasq's TCP child (see
// tcp-child-cache-timing): c, run boundaryReplays times again, answers the
// same every time.
func TCPTimingOnly(s *Servers, c *Case) (bool, error) {
	if !slices.ContainsFunc(c.Queries, func(q Query) bool { return q.TCP }) {
		return false, nil
	}
	return answersAlike(s, c, boundaryReplays)
}

// answersAlike reports whether c, run n times, gets the same answers from
// both servers every time.
func answersAlike(s *Servers, c *Case, n int) (bool, error) {
	for range n {
		o, err := Check(s, c, "")
		if err != nil || o.Signature != "" {
			return false, err
		}
	}
	return true, nil
}

// boundaryCandidate reports whether a difference with signature sig in c
// may come from a second boundary: a zone TTL of at most one second, and
// an upstream count that differs, or only the additional section (cached
// addresses of an MX or SRV target, which expire without a question
// upstream).
func boundaryCandidate(c *Case, sig string) bool {
	additionalOnly := !slices.ContainsFunc(strings.Split(sig, "; "), func(p string) bool { return !strings.HasPrefix(p, "additional ") })
	return shortTTLZone(c) && (strings.Contains(sig, "upstream fewer") || strings.Contains(sig, "upstream more") || additionalOnly)
}

// allowedByName is the entry of list called name.
func allowedByName(list []Allowed, name string) *Allowed {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// shortTTLZone reports whether the case's upstream zone has a record with
// a TTL of at most one second.
func shortTTLZone(c *Case) bool {
	for _, l := range c.Zone {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		if ttl, err := strconv.ParseUint(f[1], 10, 32); err == nil && ttl <= 1 {
			return true
		}
	}
	return false
}

// cacheSize is the case configuration's cache-size, -1 when it sets none
// (or none that reads as a number).
func cacheSize(c *Case) int {
	for _, l := range c.Config {
		_, val, _ := strings.Cut(strings.TrimSpace(l), "=")
		if optionName(l) != "cache-size" {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
			return n
		}
	}
	return -1
}

// optionName is the option of a configuration line.
func optionName(line string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(line), "=")
	return strings.TrimSpace(name)
}

// onlyParts reports whether every part of signature sig is one of parts.
func onlyParts(sig string, parts ...string) bool {
	for _, p := range strings.Split(sig, "; ") {
		if !slices.Contains(parts, p) {
			return false
		}
	}
	return true
}

// AllowedAcceptance is the list of documented acceptance differences: lines
// `dnsmasq --test` accepts and Frontdesk refuses on purpose (never a form real
// files carry).
var AllowedAcceptance = []Allowed{
	{
		Name:   "synth-domain-nonsense",
		Reason: "synth-domain lines that dnsmasq accepts without meaning anything (a lone address, an end before the start, mixed families, odd prefixes, more fields) fail the configuration",
		README: "modules/dnsmasq/README.md, Differences: synth-domain",
		Match:  optionIs("synth-domain"),
	},
	{
		Name:   "add-subnet-too-long",
		Reason: "add-subnet lengths longer than the address fail the configuration",
		README: "modules/dnsmasq/README.md, Differences: add-subnet",
		Match:  optionIs("add-subnet"),
	},
	{
		Name: "dns-rr-type-out-of-range",
		Reason: "dns-rr with a type number above 65535 fails the configuration; dnsmasq keeps the C int " +
			"of the number and answers the record only to ANY queries, with the low 16 bits as its type",
		README: "modules/dnsmasq/README.md, Differences: dns-rr",
		Match: func(c *Case, _ string) bool {
			return optionIs("dns-rr")(c, "") && slices.ContainsFunc(c.Config, dnsRRTypeOutOfRange)
		},
	},
	{
		Name: "dns-rr-quoted-hex",
		Reason: "dns-rr hex data in double quotes is read as hex; dnsmasq hides quoted digits and letters " +
			"from parse_hex (hide_meta) and fails the line with \"could not get memory\"",
		README: "modules/dnsmasq/README.md, Differences: dns-rr",
		Match: func(c *Case, _ string) bool {
			return optionIs("dns-rr")(c, "") && slices.ContainsFunc(c.Config, func(l string) bool { return strings.Contains(l, `"`) })
		},
	},
	{
		Name: "rebind-domain-ok-dotless",
		Reason: "an empty rebind-domain-ok domain (rebind-domain-ok=, =/, the last of =/lan//), which dnsmasq " +
			"matches to every dotless name, fails the configuration together with stop-dns-rebind " +
			"(without it the domain means nothing and is accepted)",
		README: "modules/dnsmasq/README.md, Differences: rebind-domain-ok",
		Match: func(c *Case, _ string) bool {
			return optionIs("rebind-domain-ok")(c, "") && optionIs("stop-dns-rebind")(c, "")
		},
	},
}

// dnsRRTypeOutOfRange reports whether a dns-rr line's type is a number
// above 65535.
func dnsRRTypeOutOfRange(line string) bool {
	_, val, _ := strings.Cut(line, "=")
	f := strings.Split(val, ",")
	if len(f) < 2 {
		return false
	}
	t := strings.TrimSpace(f[1])
	if t == "" || strings.Trim(t, "0123456789") != "" {
		return false
	}
	n, err := strconv.ParseUint(t, 10, 64)
	return err != nil || n > 65535 // err: too many digits for any type
}

// optionIs matches a case whose (single) configuration line is of option name.
func optionIs(name string) func(*Case, string) bool {
	return func(c *Case, _ string) bool {
		for _, l := range c.Config {
			if o, _, _ := strings.Cut(strings.TrimSpace(l), "="); strings.TrimSpace(o) == name {
				return true
			}
		}
		return false
	}
}

// allowedFor is the first entry of list matching the difference, or nil.
func allowedFor(list []Allowed, c *Case, sig string) *Allowed {
	for i := range list {
		if list[i].Match(c, sig) {
			return &list[i]
		}
	}
	return nil
}
