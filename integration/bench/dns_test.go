package main

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestUpstream runs the DNS upstream in-process on a free loopback port.
func TestUpstream(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var queries atomic.Int64
	srv := &dns.Server{PacketConn: pc, Handler: upstreamHandler(&queries)}
	go srv.ActivateAndServe()
	defer srv.Shutdown()
	addr := pc.LocalAddr().String()

	var err2 error
	for range 50 { // until the server is up
		if _, err2 = upstreamCount(addr); err2 == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err2 != nil {
		t.Fatal(err2)
	}
	if err := checkA(addr, strings.TrimSuffix(upstreamName(99), ".")); err != nil {
		t.Error(err)
	}
	if err := checkA(addr, "n100."+upstreamZone); err == nil || !strings.Contains(err.Error(), "NXDOMAIN") {
		t.Errorf("n100: %v, want NXDOMAIN", err)
	}
	if r, err := dnsExchange(addr, "example.com", dns.TypeA); err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("example.com: %v %v, want REFUSED", r, err)
	}
	if n, err := upstreamCount(addr); err != nil || n != 3 {
		t.Errorf("count = %d, %v; want 3", n, err)
	}
}

func TestDNSScenarios(t *testing.T) {
	sc := dnsScenarios()
	if len(sc) != 2 || len(sc[0].Names) != 10 || len(sc[1].Names) != upstreamNames || !sc[1].Forward {
		t.Fatalf("scenarios: %+v", sc)
	}
	lines := strings.Join(dnsmasqLines(5353), "\n")
	for _, want := range []string{"cache-size=10000", "address=/bench.local/127.0.0.1", "server=127.0.0.1#5353", "no-resolv", "no-hosts"} {
		if !strings.Contains(lines, want) {
			t.Errorf("lines lack %q", want)
		}
	}
}

func TestDNSReport(t *testing.T) {
	run := func(qps, cpu float64) dnsRun {
		return dnsRun{dnsperfResult: dnsperfResult{QPS: qps, Sent: 100, Completed: 100, NoError: 100}, CPUPerQuery: cpu, PeakRSS: 6 * 1024}
	}
	sums := []dnsSummary{
		summarizeDNS("local address=", dnsFrontdesk, []dnsRun{run(100000, 8), run(90000, 9), run(95000, 8.5)}),
		summarizeDNS("local address=", dnsDnsmasq, []dnsRun{run(90000, 3), run(100000, 3), run(95000, 3)}),
		summarizeDNS("cached forward", dnsFrontdesk, []dnsRun{run(50000, 5)}),
		summarizeDNS("cached forward", dnsDnsmasq, []dnsRun{run(100000, 3)}),
	}
	c := config{rounds: 3, dns: dnsperfOptions{Clients: 4, Threads: 2, Outstanding: 200, Duration: 5 * time.Second}}
	out := dnsReport(c, dnsmasqLines(5353), sums, dnsVarianceNotes(sums, 0.25))
	reportHas(t, out,
		"dnsperf -s 127.0.0.1 -p PORT -d FILE -l 5 -c 4 -t 1 -T 2 -q 200, 3 rounds",
		// per-round ratios 1.111, 0.9, 1.0: median 1.000
		"| local address= | frontdesk dnsmasq | 95,000 | 8.50 | 1.000 | 6.0 MiB |",
		"| local address= | dnsmasq | 95,000 | 3.00 | 1.000 | 6.0 MiB |",
		"| cached forward | frontdesk dnsmasq | 50,000 | 5.00 | 0.500 | 6.0 MiB |",
		"**local address=: frontdesk dnsmasq / dnsmasq = 1.000** q/s, median of the per-round ratios (target ≥ 1.00: meets)",
		"**cached forward: frontdesk dnsmasq / dnsmasq = 0.500** q/s, median of the per-round ratios (target ≥ 1.00: BELOW)",
		"local address=: frontdesk dnsmasq CPU 8.50 µs/query (target ≤ CoreDNS's 7 µs: WORSE; 2.83× dnsmasq's 3.00 µs here, against CoreDNS's 2.6× dnsmasq's (7 / 2.7 µs in issue 3): WORSE)",
		"cached forward: frontdesk dnsmasq CPU 5.00 µs/query (target ≤ CoreDNS's 7 µs: meets; 1.67× dnsmasq's 3.00 µs here, against CoreDNS's 2.6× dnsmasq's (7 / 2.7 µs in issue 3): meets)",
		"| local address=: frontdesk dnsmasq / dnsmasq | 1.111 | 0.900 | 1.000 |",
		"local address=, frontdesk dnsmasq varied by 10.5% between rounds",
	)
}

// With CoreDNS in the rounds, Frontdesk's CPU per query is held against
// CoreDNS's measured figure, and CoreDNS gets no target line of its own.
func TestDNSReportWithCoreDNS(t *testing.T) {
	run := func(qps, cpu float64) dnsRun {
		return dnsRun{dnsperfResult: dnsperfResult{QPS: qps, Sent: 100, Completed: 100, NoError: 100}, CPUPerQuery: cpu, PeakRSS: 6 * 1024}
	}
	sums := []dnsSummary{
		summarizeDNS("local address=", dnsFrontdesk, []dnsRun{run(100000, 8)}),
		summarizeDNS("local address=", dnsDnsmasq, []dnsRun{run(100000, 7)}),
		summarizeDNS("local address=", dnsCoreDNS, []dnsRun{run(50000, 20)}),
		summarizeDNS("cached forward", dnsFrontdesk, []dnsRun{run(100000, 12)}),
		summarizeDNS("cached forward", dnsDnsmasq, []dnsRun{run(100000, 7)}),
		summarizeDNS("cached forward", dnsCoreDNS, []dnsRun{run(50000, 11)}),
	}
	c := config{rounds: 1, dns: dnsperfOptions{Clients: 4, Threads: 2, Outstanding: 200, Duration: 5 * time.Second}}
	out := dnsReport(c, dnsmasqLines(5353), sums, nil)
	reportHas(t, out,
		"| local address= | coredns | 50,000 | 20.00 | 0.500 | 6.0 MiB |",
		"local address=: frontdesk dnsmasq CPU 8.00 µs/query (target ≤ CoreDNS's 20.00 µs measured in the same rounds: meets)",
		"cached forward: frontdesk dnsmasq CPU 12.00 µs/query (target ≤ CoreDNS's 11.00 µs measured in the same rounds: WORSE)",
	)
	if strings.Contains(out, "**local address=: coredns") {
		t.Errorf("CoreDNS got a target line:\n%s", out)
	}
}

func TestParseVersions(t *testing.T) {
	if got := parseVarnishVersion("varnishd (varnish-7.1.1 revision 7cee1c581bead20e88d101ab3d72afb29f14d87a)\nCopyright (c) 2006 Verdens Gang AS\n"); got != "7.1.1" {
		t.Errorf("parseVarnishVersion = %q", got)
	}
	if got := parseDnsmasqVersion("Dnsmasq version 2.90  Copyright (c) 2000-2024 Simon Kelley\n"); got != "2.90" {
		t.Errorf("parseDnsmasqVersion = %q", got)
	}
	if parseVarnishVersion("not found") != "unknown" || parseDnsmasqVersion("") != "unknown" {
		t.Error("junk does not give unknown")
	}
}
