package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// A dump as callgrind_control -d writes it (names compressed: defined at
// their first use, then by number), cut down: main calls findRunnable
// twice (once through schedule), findRunnable calls netpoll, and
// findRunnable calls itself once (not counted again).
const testDump = `# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 7044
positions: line
events: Ir
summary: 10000

ob=(1) /tmp/frontdesk
fl=(1) proc.go
fn=(1) runtime.main
10 500
cfn=(2) runtime.findRunnable
calls=1 20
11 3000
cfn=(3) runtime.schedule
calls=1 30
12 1500

fn=(3)
30 100
cfn=(2)
calls=1 20
31 1400

fn=(2)
20 2000
cfn=(4) runtime.netpoll
calls=1 40
21 2000
cfn=(2)
calls=1 20
22 700
+1 5
`

func TestParseCallgrindDump(t *testing.T) {
	total, incl, err := parseCallgrindDump(strings.NewReader(testDump), idleScheduler)
	if err != nil {
		t.Fatal(err)
	}
	if total != 10000 || incl != 3000+1400 {
		t.Errorf("total, inclusive = %d, %d, want 10000, 4400", total, incl)
	}
	if _, incl, _ := parseCallgrindDump(strings.NewReader(testDump), "runtime.netpoll"); incl != 2000 {
		t.Errorf("netpoll inclusive = %d, want 2000", incl)
	}
	if _, _, err := parseCallgrindDump(strings.NewReader("fn=(1) main\n1 2\n"), idleScheduler); err == nil {
		t.Error("a dump without summary: no error")
	}
}

func TestLatestDump(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"callgrind.12", "callgrind.12.2", "callgrind.12.10", "callgrind.13.11", "callgrind.12.9"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(testDump), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := latestDump(dir, 12)
	if err != nil || filepath.Base(got) != "callgrind.12.10" {
		t.Errorf("latestDump = %q, %v, want callgrind.12.10", got, err)
	}
	if c, err := readDumpCounts(dir, 12); err != nil || c != (dumpCounts{Total: 10000, Idle: 4400}) {
		t.Errorf("readDumpCounts = %+v, %v", c, err)
	}
	if _, err := latestDump(dir, 14); err == nil {
		t.Error("no dump of pid 14: no error")
	}
}

func TestCheckAnswerA(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("n1.upstream.bench.", dns.TypeA)
	reply := func(ip net.IP, rcode int) *dns.Msg {
		r := new(dns.Msg)
		r.SetRcode(q, rcode)
		if ip != nil {
			r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: ip}}
		}
		return r
	}
	if err := checkAnswerA(q, reply(net.IPv4(127, 0, 0, 1), dns.RcodeSuccess)); err != nil {
		t.Error(err)
	}
	other := new(dns.Msg)
	other.SetQuestion("n2.upstream.bench.", dns.TypeA)
	otherReply := new(dns.Msg)
	otherReply.SetReply(other)
	for name, r := range map[string]*dns.Msg{
		"another address": reply(net.IPv4(127, 0, 0, 2), dns.RcodeSuccess),
		"no answer":       reply(nil, dns.RcodeSuccess),
		"NXDOMAIN":        reply(nil, dns.RcodeNameError),
		"other question":  otherReply,
	} {
		if err := checkAnswerA(q, r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDNSInstrReport(t *testing.T) {
	sc := []dnsScenario{{Name: "cached forward"}}
	w, u, d := dnsInstrName("cached forward", watchedName(dnsFrontdesk)), dnsInstrName("cached forward", dnsFrontdesk), dnsInstrName("cached forward", dnsDnsmasq)
	runs := instrRuns{
		Busy:  map[string][]float64{w: {10100, 10200, 10150}, u: {10000, 10100, 10050}, d: {5000, 5000, 5000}},
		Total: map[string][]float64{w: {10500, 10200, 10350}, u: {10000, 10400, 10050}, d: {5000, 5000, 5000}},
	}
	out := dnsInstrReport(config{rounds: 3, instrRequests: 2000}, dnsmasqLines(5300), []string{w, u, d}, runs, dnsInstrRatios(sc))
	reportHas(t, out,
		"| cached forward: frontdesk dnsmasq (dashboard watched) | 10,150 | 10,100 | 10,200 |",
		"| cached forward: dnsmasq | 5,000 | 5,000 | 5,000 |",
		"**cached forward: frontdesk dnsmasq (dashboard watched) / cached forward: frontdesk dnsmasq = 0.990** in instructions",
		"target ≥ 0.98: meets; extra cost +100 instructions/query",
		"**cached forward: frontdesk dnsmasq / cached forward: dnsmasq = 0.498** in instructions, median of the per-round ratios (no target; extra cost +5050 instructions/query)",
		"| cached forward: frontdesk dnsmasq (dashboard watched) | 10,350 | 10,200 | 10,500 |",
		"server=127.0.0.1#5300",
	)
	if n := strings.Count(out, "/ cached forward: frontdesk dnsmasq ="); n != 2 {
		t.Errorf("the watched ratio is given %d times, want twice (busy, totals):\n%s", n, out)
	}
}
