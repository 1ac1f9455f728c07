package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/integration/dnsdiff"
)

// dnssecQuery is a question of a DNSSEC differential case: "name TYPE"
// followed by any of do (EDNS0 with DO), edns (EDNS0 without DO), small
// (EDNS0 buffer of 512 bytes), ad, cd, tcp.
type dnssecQuery struct {
	name     string
	qtype    uint16
	edns, do bool
	small    bool
	ad, cd   bool
	tcp      bool
}

func parseDNSSECQuery(s string) dnssecQuery {
	f := strings.Fields(s)
	q := dnssecQuery{name: f[0], qtype: dns.StringToType[f[1]]}
	if q.qtype == 0 {
		panic("bad type in " + s)
	}
	for _, o := range f[2:] {
		switch o {
		case "do":
			q.edns, q.do = true, true
		case "edns":
			q.edns = true
		case "ad":
			q.ad = true
		case "cd":
			q.cd = true
		case "small":
			q.edns, q.small = true, true
		case "tcp":
			q.tcp = true
		default:
			panic("bad option in " + s)
		}
	}
	return q
}

func (q dnssecQuery) exchange(addr string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.RecursionDesired = true
	m.AuthenticatedData = q.ad
	m.CheckingDisabled = q.cd
	if q.edns {
		size := uint16(1232)
		if q.small {
			size = 512
		}
		m.SetEdns0(size, q.do)
	}
	if q.tcp {
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
		r, _, err := c.Exchange(m, addr)
		return r, err
	}
	return dnsdiff.ExchangeUDP(m, addr, 5*time.Second)
}

// edeCodes lists the extended DNS error codes (RFC 8914) of a reply.
func edeCodes(m *dns.Msg) string {
	var out []string
	if o := m.IsEdns0(); o != nil {
		for _, e := range o.Option {
			if ede, ok := e.(*dns.EDNS0_EDE); ok {
				out = append(out, fmt.Sprintf("%d(%s)", ede.InfoCode, ede.ExtraText))
			}
		}
	}
	return strings.Join(out, ",")
}

// diffDNSSEC runs real dnsmasq and Frontdesk with conf, where {UP} and
// {UP2} are signedUpstreams of one signed tree (each side its own instances) and
// {ANCHOR} the tree's trust-anchor line, and compares their answers to the
// queries: rcode, flags (AD and CD too), OPT, extended DNS errors and sorted
// sections. It also
// compares the questions each side sent upstream.
func diffDNSSEC(t *testing.T, conf string, queries ...string) {
	t.Helper()
	diffDNSSECSetup(t, conf, nil, queries...)
}

// diffDNSSECSetup is diffDNSSEC where {DIR} is a directory of each side,
// prepared by setup (when not nil) before the servers start.
func diffDNSSECSetup(t *testing.T, conf string, setup func(dir string), queries ...string) {
	t.Helper()
	tree := newSignedTree(t)
	var ups [2][2]*signedUpstream // [side][upstream]
	var confs [2]string
	for i := range ups {
		ups[i] = [2]*signedUpstream{startSignedUpstream(t, tree), startSignedUpstream(t, tree)}
		dir := t.TempDir()
		if setup != nil {
			setup(dir)
		}
		confs[i] = strings.NewReplacer("{UP}", ups[i][0].Dnsmasq(), "{UP2}", ups[i][1].Dnsmasq(),
			"{ANCHOR}", tree.TrustAnchor(), "{ANCHOR_SECURE}", tree.TrustAnchorFor("secure.test."), "{DIR}", dir).Replace(conf)
	}
	p := startDNSPair(t, confs[0], confs[1])
	ok := 0
	for _, s := range queries {
		q := parseDNSSECQuery(s)
		want, err := q.exchange(p.dnsmasq)
		if err != nil {
			t.Errorf("%s: dnsmasq: %v", s, err)
			continue
		}
		got, err := q.exchange(p.frontdesk)
		if err != nil {
			t.Errorf("%s: frontdesk: %v", s, err)
			continue
		}
		d := diffCase(want, got)
		if want.AuthenticatedData != got.AuthenticatedData || want.CheckingDisabled != got.CheckingDisabled {
			d += fmt.Sprintf("\nflags: dnsmasq ad=%v cd=%v, frontdesk ad=%v cd=%v",
				want.AuthenticatedData, want.CheckingDisabled, got.AuthenticatedData, got.CheckingDisabled)
		}
		if a, b := edeCodes(want), edeCodes(got); a != b {
			d += fmt.Sprintf("\nextended errors: dnsmasq %s, frontdesk %s", a, b)
		}
		if d != "" {
			t.Errorf("%s differs:\n%s\n--- dnsmasq:\n%s\n--- frontdesk:\n%s", s, d, want, got)
			continue
		}
		ok++
	}
	t.Logf("%d/%d differential cases identical", ok, len(queries))
	// The questions each sent upstream, in order, DS and DNSKEY lookups
	// of the validator included: this pins down what is cached (answers,
	// keys, DS proofs), when the chain of trust is fetched and from where.
	for u := range ups[0] {
		if a, b := ups[0][u].Log(), ups[1][u].Log(); strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("questions sent to upstream %d differ:\n  dnsmasq:   %q\n  frontdesk: %q", u+1, a, b)
		}
	}
}

// dnssecQueries ask each kind of answer without and with DO, with AD, and
// again (from the cache).
var dnssecQueries = []string{
	"www.secure.test. A", "www.secure.test. A edns", "www.secure.test. A do", "www.secure.test. A ad",
	"www.secure.test. A do", "www.secure.test. AAAA ad", "www.secure.test. AAAA do",
	"www.test. A do", "www.test. A ad", "www.test. A",
	"www.insecure.test. A", "www.insecure.test. A do", "www.insecure.test. A ad", "www.insecure.test. A do",
	"www.bogus.test. A", "www.bogus.test. A do", "www.bogus.test. A ad", "www.bogus.test. A edns",
	"ok.bogus.test. A do", "ok.bogus.test. A ad",
	"nx.secure.test. A", "nx.secure.test. A do", "nx.secure.test. A ad", "nx.secure.test. A do",
	"txt.secure.test. MX do", "txt.secure.test. MX ad", "www.secure.test. TXT ad", "txt.secure.test. TXT do",
	"alias.secure.test. A do", "alias.secure.test. A ad", "out.secure.test. A do", "out.secure.test. A ad",
	"multi.secure.test. A do", "multi.secure.test. A",
	"www.nsec3.test. A do", "www.nsec3.test. A ad", "nx.nsec3.test. A do", "nx.nsec3.test. A ad",
	"www.nsec3.test. MX do", "www.nsec3.test. MX",
	"nx.insecure.test. A do", "www.insecure.test. MX do",
	"secure.test. DNSKEY do", "secure.test. DS do", "secure.test. DS",
	"stripped.secure.test. A do", "stripped.secure.test. A ad",
	"old.secure.test. A do", "old.secure.test. A",
	"www.badds.test. A do", "www.badds.test. A",
	"a.wild.secure.test. A do", "b.wild.secure.test. A ad", "b.wild.secure.test. A", "wild.secure.test. TXT do",
	"c.wild.secure.test. MX do", "c.wild.secure.test. MX ad", "x.y.wild.secure.test. A do",
	"nosig.secure.test. TXT do", "nosig.secure.test. A do", "nosig-nx.secure.test. A do", "nosig-nx.test. A do",
	"nosig.nsec3.test. A do", "nx.badds.test. A do", "nosig.badds.test. A ad",
	"www.bogus.test. A cd", "www.bogus.test. A do cd", "www.secure.test. TXT do cd", "www.secure.test. TXT ad cd",
	"old.secure.test. AAAA do", // (no such record: NODATA, signed) after the expired A
	"local.test. A do", "local.test. A ad", "local.test. MX do",
	"nx.nsec3.test. MX do small", "nx.secure.test. MX do small", "www.secure.test. A do small", "nx.nsec3.test. MX do tcp",
}

const dnssecConf = "no-resolv\nserver={UP}\naddress=/local.test/10.1.1.1\n"

func TestDnsmasqDNSSECDiff(t *testing.T) {
	diffDNSSEC(t, dnssecConf+"dnssec\n{ANCHOR}\n", dnssecQueries...)
}

func TestDnsmasqDNSSECOptionsDiff(t *testing.T) {
	for _, opt := range []string{"dnssec-check-unsigned=no", "dnssec-no-timecheck", "dnssec-debug", "dnssec-limits=20,200,2"} {
		t.Run(opt, func(t *testing.T) {
			diffDNSSEC(t, dnssecConf+"dnssec\n{ANCHOR}\n"+opt+"\n", dnssecQueries...)
		})
	}
}

// TestDnsmasqDNSSECTimestampDiff: with dnssec-timestamp, signature
// validity periods are not checked while the clock is before the file's
// modification time; a missing file is created (and checks are on).
func TestDnsmasqDNSSECTimestampDiff(t *testing.T) {
	queries := []string{"old.secure.test. A do", "old.secure.test. A ad", "www.secure.test. A do"}
	t.Run("future", func(t *testing.T) {
		diffDNSSECSetup(t, dnssecConf+"dnssec\n{ANCHOR}\ndnssec-timestamp={DIR}/ts\n", func(dir string) {
			ts := filepath.Join(dir, "ts")
			future := time.Now().Add(48 * time.Hour)
			if err := os.WriteFile(ts, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(ts, future, future); err != nil {
				t.Fatal(err)
			}
		}, queries...)
	})
	t.Run("missing", func(t *testing.T) {
		var dirs []string
		diffDNSSECSetup(t, dnssecConf+"dnssec\n{ANCHOR}\ndnssec-timestamp={DIR}/ts\n", func(dir string) { dirs = append(dirs, dir) }, queries...)
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "ts")); err != nil {
				t.Errorf("timestamp file not created: %v", err)
			}
		}
	})
}

// TestDnsmasqDNSSECRoutingDiff: DS and DNSKEY lookups go to the servers
// the domain table gives for their names; the answers of a server=/domain/
// are validated only when a trust-anchor names that domain; TCP and small
// buffers.
func TestDnsmasqDNSSECRoutingDiff(t *testing.T) {
	queries := []string{"www.secure.test. A do", "www.test. A do", "nx.secure.test. A do small", "nx.secure.test. A do tcp",
		"www.insecure.test. A do", "www.bogus.test. A do tcp", "www.nsec3.test. A ad tcp", "nx.nsec3.test. A do small",
		"alias.secure.test. A do small", "out.secure.test. A do tcp", "www.secure.test. AAAA ad", "www.secure.test. AAAA do tcp",
		"nx.secure.test. A do", "www.secure.test. AAAA do", "www.bogus.test. A ad", "www.test. A ad"}
	for name, servers := range map[string]string{
		"domain":          "server=/secure.test/{UP2}\n",
		"anchored domain": "server=/secure.test/{UP2}\n{ANCHOR_SECURE}\n",
		"parent domain":   "server=/test/{UP2}\n",
		"standard":        "server=/secure.test/#\n",
	} {
		t.Run(name, func(t *testing.T) {
			diffDNSSEC(t, dnssecConf+servers+"dnssec\n{ANCHOR}\n", queries...)
		})
	}
}

func TestDnsmasqProxyDNSSECDiff(t *testing.T) {
	diffDNSSEC(t, dnssecConf+"proxy-dnssec\n", dnssecQueries...)
}

func TestDnsmasqNoDNSSECDiff(t *testing.T) {
	// Without DNSSEC options: DO is passed on and echoed, DO queries are
	// never answered from the cache, AD is not passed on.
	diffDNSSEC(t, dnssecConf, dnssecQueries...)
}
