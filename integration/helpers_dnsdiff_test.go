package integration

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/integration/dnsdiff"
)

// The hand-written differential framework: the same questions to real
// dnsmasq and to Frontdesk given one configuration, answers normalised and
// compared (the generated tester is integration/dnsdiff).

// dnsQuery is one question of a differential case.
type dnsQuery struct {
	name  string
	qtype uint16
	tcp   bool   // over TCP instead of UDP
	edns  uint16 // EDNS0 buffer size, 0 = no OPT record
	do    bool   // the DNSSEC OK bit (implies an OPT record)
	sleep time.Duration
	chaos bool        // class CHAOS instead of IN
	opts  []dns.EDNS0 // EDNS0 options (ecs=<prefix>, opt=<code>:<hex>); they imply an OPT record
	v6    bool        // sent to ::1 on the server's port (the config must listen there)
}

func (q dnsQuery) String() string {
	s := q.name + " " + dns.TypeToString[q.qtype]
	if q.tcp {
		s += " tcp"
	}
	if q.edns > 0 {
		s += fmt.Sprintf(" edns%d", q.edns)
	}
	if q.do {
		s += " do"
	}
	if q.chaos {
		s += " ch"
	}
	for _, o := range q.opts {
		s += fmt.Sprintf(" opt%d=%s", o.Option(), o)
	}
	if q.v6 {
		s += " v6"
	}
	return s
}

func qs(spec ...string) []dnsQuery {
	var out []dnsQuery
	for _, s := range spec {
		f := strings.Fields(s)
		q := dnsQuery{name: f[0], qtype: dns.StringToType[f[1]]}
		if n, err := strconv.Atoi(strings.TrimPrefix(f[1], "TYPE")); err == nil && strings.HasPrefix(f[1], "TYPE") {
			q.qtype = uint16(n)
		}
		if q.qtype == 0 {
			panic("bad type in " + s)
		}
		for _, opt := range f[2:] {
			switch {
			case opt == "tcp":
				q.tcp = true
			case opt == "ch":
				q.chaos = true
			case opt == "v6":
				q.v6 = true
			case opt == "do":
				q.do = true
			case strings.HasPrefix(opt, "edns"):
				n, _ := strconv.Atoi(opt[4:])
				q.edns = uint16(n)
			case strings.HasPrefix(opt, "ecs="):
				p := netip.MustParsePrefix(opt[4:])
				e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()}
				if p.Addr().Is6() {
					e.Family = 2
				}
				q.opts = append(q.opts, e)
			case strings.HasPrefix(opt, "opt="):
				c, h, _ := strings.Cut(opt[4:], ":")
				code, err1 := strconv.ParseUint(c, 10, 16)
				data, err2 := hex.DecodeString(h)
				if err1 != nil || err2 != nil {
					panic("bad EDNS0 option in " + s)
				}
				q.opts = append(q.opts, &dns.EDNS0_LOCAL{Code: uint16(code), Data: data})
			case strings.HasPrefix(opt, "sleep"):
				d, _ := time.ParseDuration(opt[5:])
				q.sleep = d
			default:
				panic("bad option in " + s)
			}
		}
		out = append(out, q)
	}
	return out
}

func exchange(addr string, q dnsQuery) (*dns.Msg, error) {
	if q.v6 {
		_, port, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort("::1", port)
	}
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	if q.chaos {
		m.Question[0].Qclass = dns.ClassCHAOS
	}
	m.RecursionDesired = true
	if q.edns > 0 || q.do || len(q.opts) > 0 {
		size := q.edns
		if size == 0 {
			size = 1232
		}
		m.SetEdns0(size, q.do)
		m.IsEdns0().Option = q.opts
	}
	if q.tcp {
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
		r, _, err := c.Exchange(m, addr)
		return r, err
	}
	return dnsdiff.ExchangeUDP(m, addr, 5*time.Second)
}

// normalized is what the differential tests compare: rcode, the aa/tc/ra
// flags, OPT presence, and each section sorted, with TTLs apart.
type normalized struct {
	head     string
	sections [3][]string
	ttls     [3][]uint32
}

func normalize(m *dns.Msg) normalized {
	var n normalized
	opt := "no-opt"
	if o := m.IsEdns0(); o != nil {
		opt = fmt.Sprintf("opt(udp=%d,do=%v,rcode-ext=%d%s)", o.UDPSize(), o.Do(), o.ExtendedRcode(), ednsOptions(o))
	}
	n.head = fmt.Sprintf("rcode=%s aa=%v tc=%v ra=%v rd=%v %s q=%v",
		dns.RcodeToString[m.Rcode], m.Authoritative, m.Truncated, m.RecursionAvailable, m.RecursionDesired, opt, m.Question)
	for i, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		type item struct {
			s   string
			ttl uint32
		}
		var items []item
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			c := dns.Copy(rr)
			ttl := c.Header().Ttl
			c.Header().Ttl = 0
			items = append(items, item{c.String(), ttl})
		}
		sort.Slice(items, func(a, b int) bool { return items[a].s < items[b].s })
		for _, it := range items {
			n.sections[i] = append(n.sections[i], it.s)
			n.ttls[i] = append(n.ttls[i], it.ttl)
		}
	}
	return n
}

// diffCase compares one answer of real dnsmasq (want) and Frontdesk (got).
// TTLs may differ by one second: both count cached TTLs down in whole
// seconds from slightly different instants.
func diffCase(want, got *dns.Msg) string {
	w, g := normalize(want), normalize(got)
	var out []string
	if w.head != g.head {
		out = append(out, fmt.Sprintf("header: dnsmasq %s, frontdesk %s", w.head, g.head))
	}
	for i, name := range []string{"answer", "authority", "additional"} {
		if strings.Join(w.sections[i], "\n") != strings.Join(g.sections[i], "\n") {
			out = append(out, fmt.Sprintf("%s section:\n  dnsmasq:   %q\n  frontdesk: %q", name, w.sections[i], g.sections[i]))
			continue
		}
		for j := range w.ttls[i] {
			a, b := int(w.ttls[i][j]), int(g.ttls[i][j])
			if a-b > 1 || b-a > 1 {
				out = append(out, fmt.Sprintf("%s TTL of %s: dnsmasq %d, frontdesk %d", name, w.sections[i][j], a, b))
			}
		}
	}
	return strings.Join(out, "\n")
}

// dnsPair is real dnsmasq and Frontdesk running the same configuration.
type dnsPair struct {
	dnsmasq, frontdesk string
}

// startDNSPair runs real dnsmasq with dnsmasqConf and Frontdesk with
// frontdeskConf (startDNSConf), and returns both addresses.
func startDNSPair(t *testing.T, dnsmasqConf, frontdeskConf string) dnsPair {
	t.Helper()
	return dnsPair{dnsmasq: startDnsmasq(t, dnsmasqConf, 0).Addr, frontdesk: startDNSConf(t, frontdeskConf, 0).addr}
}

// runDiff sends every query to both servers in the same order and reports
// each difference. It returns the number of cases that matched.
func runDiff(t *testing.T, p dnsPair, queries []dnsQuery) int {
	t.Helper()
	ok := 0
	for _, q := range queries {
		if q.sleep > 0 {
			time.Sleep(q.sleep)
		}
		want, err := exchange(p.dnsmasq, q)
		if err != nil {
			t.Errorf("%s: dnsmasq: %v", q, err)
			continue
		}
		if q.tcp {
			dnsdiff.DropSpuriousFiltered(want)
		}
		got, err := exchange(p.frontdesk, q)
		if err != nil {
			t.Errorf("%s: frontdesk: %v", q, err)
			continue
		}
		if q.tcp {
			// Frontdesk's is not comparable with dnsmasq's unreliable one.
			dnsdiff.DropSpuriousFiltered(got)
		}
		if d := diffCase(want, got); d != "" {
			t.Errorf("%s differs:\n%s\n--- dnsmasq:\n%s\n--- frontdesk:\n%s", q, d, want, got)
			continue
		}
		ok++
	}
	return ok
}

// diffScenario runs the queries against real dnsmasq and Frontdesk started
// with conf, where {UP1} and {UP2} are fake upstreams (ids 1 and 2; each
// side gets its own instances), {DEAD} an address where nothing listens, and
// {TESTDATA} integration/testdata/dnsmasq. Besides each answer, it compares
// how many queries each side sent to each upstream, which pins down what is
// cached and what is forwarded.
func diffScenario(t *testing.T, conf string, queries ...string) {
	t.Helper()
	diffScenarioFiles(t, conf, nil, queries...)
}

// diffScenarioFiles is diffScenario with extra files written into a
// directory of each side ({DIR} in conf and in the files), with the same
// placeholders replaced.
func diffScenarioFiles(t *testing.T, conf string, files map[string]string, queries ...string) {
	t.Helper()
	diffScenarioUpstreams(t, conf, files, queries...)
}

// diffScenarioUpstreams is diffScenarioFiles that also returns each side's
// upstreams (dnsmasq's first), for tests that look at what was sent to
// them. {QPORT} in conf is a free UDP port, another one for each side;
// {SIDE} is "dm" for dnsmasq's side and "fd" for Frontdesk's (for names of
// kernel objects each side needs its own of, such as ipsets).
func diffScenarioUpstreams(t *testing.T, conf string, files map[string]string, queries ...string) (sides [2][]*fakeUpstream) {
	t.Helper()
	return diffScenarioZone(t, conf, "", files, queries...)
}

// diffScenarioZone is diffScenarioUpstreams with a third upstream per side,
// {ZONE}, that answers from zone as a resolver would (see zoneData): names
// it does not hold do not exist.
func diffScenarioZone(t *testing.T, conf, zone string, files map[string]string, queries ...string) (sides [2][]*fakeUpstream) {
	t.Helper()
	var zd *zoneData
	if zone != "" {
		zd = parseZone(t, zone)
	}
	dead := startFakeUpstream(t, 9)
	dead.Stop()
	var confs [2]string
	qport := 0
	for i := range sides {
		r := []string{"{TESTDATA}", repoFile(t, "integration/testdata/dnsmasq"), "{DEAD}", dead.Dnsmasq()}
		for id := 1; id <= 2; id++ {
			u := startFakeUpstream(t, id)
			sides[i] = append(sides[i], u)
			r = append(r, fmt.Sprintf("{UP%d}", id), u.Dnsmasq())
		}
		if zd != nil {
			u := startZoneUpstream(t, 3, zd)
			sides[i] = append(sides[i], u)
			r = append(r, "{ZONE}", u.Dnsmasq())
		}
		sideDir := t.TempDir()
		r = append(r, "{DIR}", sideDir, "{SIDE}", [2]string{"dm", "fd"}[i])
		if strings.Contains(conf, "{QPORT}") {
			qp := freeDNSPort(t)
			for qp == qport {
				qp = freeDNSPort(t) // not the other side's port
			}
			qport = qp
			r = append(r, "{QPORT}", strconv.Itoa(qp))
		}
		rep := strings.NewReplacer(r...)
		for name, body := range files {
			writeFile(t, filepath.Join(sideDir, name), rep.Replace(body))
		}
		confs[i] = rep.Replace(conf)
	}
	p := startDNSPair(t, confs[0], confs[1])
	qq := qs(queries...)
	n := runDiff(t, p, qq)
	t.Logf("%d/%d differential cases identical", n, len(qq))
	for id := range sides[0] {
		if a, b := sides[0][id].queries.Load(), sides[1][id].queries.Load(); a != b {
			t.Errorf("upstream %d received %d queries from dnsmasq, %d from frontdesk:\n  dnsmasq:   %q\n  frontdesk: %q",
				id+1, a, b, sides[0][id].Log(), sides[1][id].Log())
		}
	}
	return sides
}

func query(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	r, err := exchange(addr, dnsQuery{name: name, qtype: qtype})
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}
