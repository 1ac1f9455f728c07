package dnsdiff

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// The pools configurations and zones draw from: few names and addresses, so
// that options collide on the same names.
var (
	poolBases   = []string{"lan", "corp.test", "ex.test"}
	poolLabels  = []string{"a", "b", "www", "mail", "nas"}
	poolDotless = []string{"router", "nas", "printer"}
	poolV4      = []string{"10.0.0.1", "10.0.0.2", "192.168.1.10", "127.0.0.2", "93.184.216.34", "198.51.100.7", "0.0.0.0"}
	poolV6      = []string{"fd00::1", "2001:db8::7", "::", "::1", "fe80::1"}
	poolTTLs    = []string{"0", "1", "5", "30", "300", "3600"}
	// poolSRV are the service labels of srv-host names.
	poolSRV = []string{"_sip._tcp", "_ldap._udp"}
)

// Generator draws configurations and questions from one seeded source.
type Generator struct {
	r      *rand.Rand
	bases  []string
	labels []string
	names  map[string]bool // names the configuration or the zone mention
}

// NewGenerator is a generator for seed.
func NewGenerator(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *Generator) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *Generator) chance(p float64) bool { return g.r.Float64() < p }

// Case generates a configuration with its files and zone, and nQueries
// questions about it.
func (g *Generator) Case(nQueries int) *Case {
	g.bases = g.subset(poolBases, 2)
	g.labels = g.subset(poolLabels, 3)
	g.names = map[string]bool{}
	c := &Case{}
	if g.chance(0.8) {
		c.Config = append(c.Config, "server="+PlaceUpstream)
	}
	n := 3 + g.r.IntN(10)
	used := map[string]bool{}
	for i := 0; i < n; i++ {
		o := g.pickOption()
		if o.once && used[o.name] {
			continue
		}
		used[o.name] = true
		lines, file := o.gen(g)
		c.Config = append(c.Config, lines...)
		if file != nil {
			file.Name = fmt.Sprintf("hosts%d", len(c.Files)+1)
			c.Files = append(c.Files, *file)
			c.Config[len(c.Config)-1] = "addn-hosts=" + PlaceDir + "/" + file.Name
		}
	}
	c.Zone = g.zone()
	c.Queries = g.queries(nQueries)
	c.Recursive = recursiveFor(c)
	return c
}

// recursiveFor picks the upstream's kind for a generated case: half the
// configurations each, by a hash of the case rather than a draw, so the
// same seed still generates the same configurations and questions.
func recursiveFor(c *Case) bool {
	h := sha256.Sum256([]byte(c.Marshal()))
	return h[0]&1 == 1
}

func (g *Generator) subset(s []string, n int) []string {
	p := slices.Clone(s)
	g.r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p[:n]
}

// name is a name of the configuration's pool: mostly label.base, sometimes the
// base itself, a dotless name or a deeper one.
// text is a record's text as configurations write it: quoted or not,
// with the characters that need care (backslashes, escaped quotes, an
// ENUM back-reference, semicolons, spaces), sometimes longer than one
// 255-byte string.
func (g *Generator) text() string {
	parts := []string{"v=DKIM1; k=rsa", `a\\b`, `\"q\"`, `!^(.*)$!sip:\\1@ex.test!`, "x y", `\t`, "z;", "a\\065"}
	var b strings.Builder
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		b.WriteString(g.pick(parts))
	}
	if g.chance(0.1) {
		b.WriteString(strings.Repeat("k", 250))
	}
	if g.chance(0.3) {
		return strings.NewReplacer(`\"`, "", `\t`, "", " ", "").Replace(b.String()) // unquoted: no escapes, no spaces
	}
	return `"` + b.String() + `"`
}

func (g *Generator) name() string {
	var n string
	switch x := g.r.IntN(20); {
	case x < 13:
		n = g.pick(g.labels) + "." + g.pick(g.bases)
	case x < 16:
		n = g.pick(g.bases)
	case x < 18:
		n = g.pick(poolDotless)
	default:
		n = "x." + g.pick(g.labels) + "." + g.pick(g.bases)
	}
	g.names[n] = true
	return n
}

// domain is a domain for address=, server=, local=: a base or a label under one.
func (g *Generator) domain() string {
	d := g.pick(g.bases)
	if g.chance(0.4) {
		d = g.pick(g.labels) + "." + d
	}
	g.names[d] = true
	return d
}

func (g *Generator) v4() string { return g.pick(poolV4) }
func (g *Generator) v6() string { return g.pick(poolV6) }

func (g *Generator) addr() string {
	if g.chance(0.65) {
		return g.v4()
	}
	return g.v6()
}

// option is one production of the configuration grammar.
type option struct {
	name   string
	weight int
	once   bool // a flag or single-valued option: at most one line
	gen    func(g *Generator) ([]string, *File)
}

func line(s string) func(*Generator) ([]string, *File) {
	return func(*Generator) ([]string, *File) { return []string{s}, nil }
}

func lines(f func(g *Generator) string) func(*Generator) ([]string, *File) {
	return func(g *Generator) ([]string, *File) { return []string{f(g)}, nil }
}

// options is the configuration grammar: every DNS answer option the tester
// covers, with how often it is drawn. Every option of the parser's table
// (dnsmasq.Options) is here or in excluded (coverage.go): TestGeneratorCoversTable.
var options = []option{
	{"address", 10, false, lines(func(g *Generator) string {
		switch g.r.IntN(6) {
		case 0:
			return "address=/" + g.domain() + "/"
		case 1:
			return "address=/" + g.domain() + "/#"
		default:
			return "address=/" + g.domain() + "/" + g.addr()
		}
	})},
	{"server", 6, false, lines(func(g *Generator) string {
		switch g.r.IntN(4) {
		case 0:
			return "server=/" + g.domain() + "/"
		case 1:
			return "server=/" + g.domain() + "/#"
		default:
			return "server=/" + g.domain() + "/" + PlaceUpstream
		}
	})},
	{"local", 4, false, lines(func(g *Generator) string { return "local=/" + g.domain() + "/" })},
	{"addn-hosts", 10, false, func(g *Generator) ([]string, *File) {
		return []string{"addn-hosts="}, g.hostsFile()
	}},
	{"host-record", 8, false, lines(func(g *Generator) string {
		names := g.name()
		if g.chance(0.2) {
			names += "," + g.name()
		}
		v4, v6 := "", ""
		switch g.r.IntN(3) {
		case 0:
			v4 = g.v4()
		case 1:
			v6 = g.v6()
		default:
			v4, v6 = g.v4(), g.v6()
		}
		l := "host-record=" + names + "," + v4 + "," + v6
		if v6 == "" && g.chance(0.5) {
			l = "host-record=" + names + "," + v4
		}
		if g.chance(0.3) {
			l += "," + g.pick(poolTTLs)
		}
		return l
	})},
	{"cname", 7, false, lines(func(g *Generator) string {
		l := "cname=" + g.name() + "," + g.name()
		if g.chance(0.25) {
			l += "," + g.pick(poolTTLs)
		}
		return l
	})},
	{"txt-record", 4, false, lines(func(g *Generator) string {
		switch g.r.IntN(4) {
		case 0:
			return "txt-record=" + g.name()
		case 1:
			return "txt-record=" + g.name() + `,"v=spf1 -all"`
		case 2:
			return "txt-record=" + g.name() + `,"one","two, three"`
		default:
			return "txt-record=" + g.name() + "," + g.text() + "," + g.text()
		}
	})},
	{"mx-host", 4, false, lines(func(g *Generator) string {
		switch g.r.IntN(3) {
		case 0:
			return "mx-host=" + g.name()
		case 1:
			return "mx-host=" + g.name() + "," + g.name()
		default:
			return fmt.Sprintf("mx-host=%s,%s,%d", g.name(), g.name(), g.r.IntN(20))
		}
	})},
	{"srv-host", 3, false, lines(func(g *Generator) string {
		n := g.pick(poolSRV) + "." + g.pick(g.bases)
		g.names[n] = true
		switch g.r.IntN(3) {
		case 0:
			return "srv-host=" + n
		case 1:
			return "srv-host=" + n + "," + g.name() + ",5060"
		default:
			return fmt.Sprintf("srv-host=%s,%s,389,%d,%d", n, g.name(), g.r.IntN(3), g.r.IntN(3))
		}
	})},
	{"ptr-record", 3, false, lines(func(g *Generator) string {
		rev, _ := dns.ReverseAddr(g.addr())
		if g.chance(0.3) {
			rev = g.name() + "."
		}
		return "ptr-record=" + strings.TrimSuffix(rev, ".") + "," + g.name()
	})},
	{"naptr-record", 2, false, lines(func(g *Generator) string {
		if g.chance(0.5) {
			return `naptr-record=` + g.name() + `,100,10,"U","E2U+sip",` + g.text() + `,`
		}
		return `naptr-record=` + g.name() + `,100,10,"U","E2U+sip","!^.*$!sip:info@example.test!",`
	})},
	{"caa-record", 2, false, lines(func(g *Generator) string {
		if g.chance(0.5) {
			return `caa-record=` + g.name() + `,0,issue,` + g.text()
		}
		return `caa-record=` + g.name() + `,0,issue,"ca.example.test"`
	})},
	{"dns-rr", 2, false, lines(func(g *Generator) string {
		t := g.pick([]string{"65280", "99", "16", "257"})
		return "dns-rr=" + g.name() + "," + t + ",0a0b0c"
	})},
	{"domain", 3, true, lines(func(g *Generator) string { return "domain=" + g.pick(g.bases) })},
	{"expand-hosts", 3, true, line("expand-hosts")},
	{"domain-needed", 3, true, line("domain-needed")},
	{"bogus-priv", 3, true, line("bogus-priv")},
	{"stop-dns-rebind", 3, true, line("stop-dns-rebind")},
	{"rebind-localhost-ok", 2, true, line("rebind-localhost-ok")},
	{"rebind-domain-ok", 2, false, lines(func(g *Generator) string {
		if g.chance(0.5) {
			return "rebind-domain-ok=" + g.domain()
		}
		return "rebind-domain-ok=/" + g.domain() + "/"
	})},
	{"filter-A", 1, true, line("filter-A")},
	{"filter-AAAA", 2, true, line("filter-AAAA")},
	{"filter-rr", 2, true, lines(func(g *Generator) string {
		return "filter-rr=" + g.pick([]string{"MX", "TXT,MX", "HTTPS", "ANY", "SRV"})
	})},
	{"local-ttl", 2, true, lines(func(g *Generator) string { return "local-ttl=" + g.pick(poolTTLs) })},
	{"neg-ttl", 2, true, lines(func(g *Generator) string { return "neg-ttl=" + g.pick(poolTTLs) })},
	{"max-ttl", 2, true, lines(func(g *Generator) string { return "max-ttl=" + g.pick(poolTTLs) })},
	{"min-cache-ttl", 1, true, lines(func(g *Generator) string { return "min-cache-ttl=" + g.pick(poolTTLs) })},
	{"max-cache-ttl", 1, true, lines(func(g *Generator) string { return "max-cache-ttl=" + g.pick(poolTTLs) })},
	{"auth-ttl", 1, true, lines(func(g *Generator) string { return "auth-ttl=" + g.pick(poolTTLs) })},
	{"cache-size", 2, true, lines(func(g *Generator) string { return "cache-size=" + g.pick([]string{"0", "1", "10", "150"}) })},
	{"no-negcache", 2, true, line("no-negcache")},
	{"mx-target", 1, true, lines(func(g *Generator) string { return "mx-target=" + g.name() })},
	{"localmx", 1, true, line("localmx")},
	{"selfmx", 1, true, line("selfmx")},
	{"bogus-nxdomain", 1, false, lines(func(g *Generator) string { return "bogus-nxdomain=" + g.v4() })},
}

var optionWeight = func() int {
	n := 0
	for _, o := range options {
		n += o.weight
	}
	return n
}()

func (g *Generator) pickOption() option {
	x := g.r.IntN(optionWeight)
	for _, o := range options {
		if x < o.weight {
			return o
		}
		x -= o.weight
	}
	return options[0]
}

// hostsFile is a hosts file of the kinds real ones hold: LAN addresses,
// blocklist lines (0.0.0.0, ::), aliases, comments, dotless and upper-case
// names, IPv4-mapped and zoned addresses, leading blanks, a '#' in a name.
func (g *Generator) hostsFile() *File {
	f := &File{}
	for n := 1 + g.r.IntN(6); n > 0; n-- {
		switch x := g.r.IntN(14); {
		case x < 5:
			l := g.addr() + " " + g.name()
			if g.chance(0.25) {
				l += " " + g.name()
			}
			f.Lines = append(f.Lines, l)
		case x < 7:
			f.Lines = append(f.Lines, "0.0.0.0 "+g.name())
		case x < 8:
			f.Lines = append(f.Lines, ":: "+g.name())
		case x < 9:
			f.Lines = append(f.Lines, g.v4()+"\t"+strings.ToUpper(g.name())+"  # lan")
		case x < 10:
			f.Lines = append(f.Lines, "# "+g.name())
		case x < 11:
			f.Lines = append(f.Lines, g.addr()+" "+g.pick(poolDotless))
		case x < 12:
			// An IPv4-mapped address (IPv6 in dnsmasq), or one with a
			// zone (a bad address: the line is skipped).
			f.Lines = append(f.Lines, g.pick([]string{"::ffff:" + g.v4(), "fe80::1%lo"})+" "+g.name())
		case x < 13:
			// Leading blanks, and a '#' inside a name that ends it.
			f.Lines = append(f.Lines, "  "+g.addr()+" "+g.name()+"#x "+g.name())
		default:
			f.Lines = append(f.Lines, "")
		}
	}
	return f
}

// zone is the upstream's zone: records for names of the pool (some of them
// also local), private and public addresses (for the rebind options), CNAMEs
// between them.
func (g *Generator) zone() []string {
	var z []string
	candidates := []string{"cdn.ex.test", "up.test", "www.up.test"}
	for _, b := range g.bases {
		candidates = append(candidates, b)
		for _, l := range g.labels {
			candidates = append(candidates, l+"."+b)
		}
	}
	for _, n := range candidates {
		if !g.chance(0.5) {
			continue
		}
		g.names[n] = true
		ttl := g.pick(poolTTLs)
		if g.chance(0.15) {
			z = append(z, fmt.Sprintf("%s. %s IN CNAME %s.", n, ttl, g.pick(candidates)))
			continue
		}
		for k := 1 + g.r.IntN(3); k > 0; k-- {
			var rr string
			switch g.r.IntN(8) {
			case 0, 1, 2:
				rr = "A " + g.v4()
			case 3:
				rr = "AAAA " + g.v6()
			case 4:
				rr = "MX 10 " + g.pick(candidates) + "."
			case 5:
				rr = `TXT "upstream"`
			case 6:
				rr = "SRV 0 0 80 " + g.pick(candidates) + "."
			default:
				rr = `CAA 0 issue "ca.example.test"`
			}
			z = append(z, fmt.Sprintf("%s. %s IN %s", n, ttl, rr))
		}
	}
	return z
}

// qtypes are the question types, weighted.
var qtypes = []struct {
	t      uint16
	weight int
}{
	{dns.TypeA, 20}, {dns.TypeAAAA, 14}, {dns.TypeMX, 6}, {dns.TypeTXT, 6}, {dns.TypeSRV, 3},
	{dns.TypePTR, 3}, {dns.TypeCNAME, 4}, {dns.TypeNS, 3}, {dns.TypeSOA, 3}, {dns.TypeHTTPS, 6},
	{dns.TypeSVCB, 2}, {dns.TypeCAA, 3}, {dns.TypeANY, 4}, {65280, 2}, {99, 1},
}

func (g *Generator) qtype() uint16 {
	total := 0
	for _, q := range qtypes {
		total += q.weight
	}
	x := g.r.IntN(total)
	for _, q := range qtypes {
		if x < q.weight {
			return q.t
		}
		x -= q.weight
	}
	return dns.TypeA
}

// queryName is a name to ask about: a configured one, its parent, a child, a
// reverse name of a pool address, in random case now and then.
func (g *Generator) queryName(known []string) (string, bool) {
	var n string
	reverse := false
	switch x := g.r.IntN(20); {
	case x < 11 && len(known) > 0:
		n = g.pick(known)
	case x < 13 && len(known) > 0:
		n = g.pick(known)
		if i := strings.IndexByte(n, '.'); i >= 0 {
			n = n[i+1:]
		}
	case x < 14 && len(known) > 0:
		n = g.pick([]string{"x", "deep.y", "www"}) + "." + g.pick(known)
	case x < 16:
		n, _ = dns.ReverseAddr(g.addr())
		n = strings.TrimSuffix(n, ".")
		reverse = true
	case x < 17:
		n = g.pick(poolDotless)
	default:
		n = g.pick(poolLabels) + "." + g.pick(poolBases)
	}
	if g.chance(0.1) {
		b := []byte(n)
		for i := range b {
			if g.chance(0.5) {
				b[i] = strings.ToUpper(string(b[i]))[0]
			}
		}
		n = string(b)
	}
	return dns.Fqdn(n), reverse
}

// queries are n questions about the configured names, a quarter of them
// repeats of earlier ones (the cache).
func (g *Generator) queries(n int) []Query {
	known := make([]string, 0, len(g.names))
	for k := range g.names {
		known = append(known, k)
	}
	slices.Sort(known)
	var out []Query
	for len(out) < n {
		if len(out) > 0 && g.chance(0.25) {
			out = append(out, out[g.r.IntN(len(out))])
			continue
		}
		name, reverse := g.queryName(known)
		q := Query{Name: name, Type: g.qtype()}
		if reverse && g.chance(0.7) {
			q.Type = dns.TypePTR
		}
		if g.chance(0.4) {
			q.EDNS = []uint16{1232, 512, 4096}[g.r.IntN(3)]
			q.DO = g.chance(0.3)
		}
		q.TCP = g.chance(0.2)
		out = append(out, q)
	}
	return out
}
