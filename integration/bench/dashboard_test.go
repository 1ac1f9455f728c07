package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestDashboardGathered: the figures a run makes grow are read from the
// dashboard's data as the admin API serves it.
func TestDashboardGathered(t *testing.T) {
	parse := func(s string) dashboardFigures {
		t.Helper()
		var f dashboardFigures
		if err := json.Unmarshal([]byte(s), &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for data, want := range map[string]uint64{
		`{"dns": {"queries": 9, "log_total": 40, "log": []}, "cache": [], "upstreams": [], "sites": [], "generated": "2026-12-06T21:00:00Z"}`:    40,
		`{"dns": {"log_total": 0}, "cache": [{"name": "bench", "top_keys": [{"key": "a", "count": 8}, {"key": "b", "count": 16, "error": 8}]}]}`: 24,
		`{"dns": {"log_total": 0}, "upstreams": [{"name": "bench", "upstreams": [{"traffic": {"requests": 5}}, {"traffic": {"requests": 2}}]}]}`: 7,
		`{"sites": []}`: 0,
	} {
		if got := parse(data).gathered(); got != want {
			t.Errorf("%s: gathered %d, want %d", data, got, want)
		}
	}
}

// TestReportDashboardRatio: the throughput report leads with the watched
// twin's paired ratio to healthgate, with issue 15's target.
func TestReportDashboardRatio(t *testing.T) {
	round := func(rps float64) wrkResult { return wrkResult{RequestsPerSec: rps, P99: time.Millisecond, Requests: 1} }
	sums := []summary{
		summarize(watchedName(targetHealthgate), []wrkResult{round(9700), round(9900)}),
		summarize(targetHealthgate, []wrkResult{round(10000), round(10000)}),
		summarize(targetHeaderPolicy, []wrkResult{round(10000), round(10000)}),
	}
	out := report(config{wrk: wrkOptions{Threads: 1, Connections: 64, Duration: time.Second}, rounds: 2}, sums, nil)
	reportHas(t, out,
		"| frontdesk healthgate (dashboard watched) | 9,800 | 1.00ms | n/a |",
		"**healthgate dashboard watched / unwatched = 0.980**, median of the per-round ratios (target ≥ 0.98: meets; ratio of the medians: 0.980; "+
			"`frontdesk healthgate (dashboard watched)` / `frontdesk healthgate` (-dashboard)",
		"| healthgate dashboard watched / unwatched | 0.970 | 0.990 | |",
	)
}

// TestCacheReportDashboardRatio: each object gets the twin's ratio to
// proxy_cache; without a twin there is no such line.
func TestCacheReportDashboardRatio(t *testing.T) {
	run := func(rps float64) cacheRun {
		return cacheRun{wrkResult: wrkResult{RequestsPerSec: rps, P99: time.Millisecond, Requests: 1000}}
	}
	var sums []cacheSummary
	for _, s := range []struct {
		object, server string
		rps            float64
	}{
		{"1 KiB", cacheFrontdesk, 20000}, {"1 KiB", watchedName(cacheFrontdesk), 19000},
		{"100 KiB", cacheFrontdesk, 5000}, {"100 KiB", watchedName(cacheFrontdesk), 4950},
	} {
		sums = append(sums, summarizeCache(s.object, s.server, []cacheRun{run(s.rps)}))
	}
	c := config{wrk: wrkOptions{Threads: 1, Connections: 64, Duration: time.Second}, rounds: 1}
	reportHas(t, cacheReport(c, sums, nil),
		"**1 KiB: frontdesk proxy_cache (dashboard watched) / frontdesk proxy_cache = 0.950**, median of the per-round ratios (target ≥ 0.98: BELOW)",
		"**100 KiB: frontdesk proxy_cache (dashboard watched) / frontdesk proxy_cache = 0.990**, median of the per-round ratios (target ≥ 0.98: meets)",
		"| 100 KiB: frontdesk proxy_cache (dashboard watched) / frontdesk proxy_cache | 0.990 |",
	)
	if out := cacheReport(c, sums[:1], nil); strings.Contains(out, dashboardSuffix) {
		t.Errorf("a dashboard line without a twin:\n%s", out)
	}
}

// TestDNSReportDashboardRatio: each scenario gets the twin's ratio to
// frontdesk dnsmasq, and the twin no CPU target line of its own.
func TestDNSReportDashboardRatio(t *testing.T) {
	run := func(qps float64) dnsRun {
		return dnsRun{dnsperfResult: dnsperfResult{QPS: qps, Sent: 100, Completed: 100, NoError: 100}, CPUPerQuery: 5}
	}
	twin := watchedName(dnsFrontdesk)
	sums := []dnsSummary{
		summarizeDNS("local address=", twin, []dnsRun{run(96000), run(99000)}),
		summarizeDNS("local address=", dnsFrontdesk, []dnsRun{run(100000), run(100000)}),
		summarizeDNS("local address=", dnsDnsmasq, []dnsRun{run(90000), run(90000)}),
		summarizeDNS("cached forward", twin, []dnsRun{run(80000), run(80000)}),
		summarizeDNS("cached forward", dnsFrontdesk, []dnsRun{run(80000), run(80000)}),
	}
	c := config{rounds: 2, dns: dnsperfOptions{Clients: 4, Threads: 2, Outstanding: 200, Duration: time.Second}}
	out := dnsReport(c, dnsmasqLines(5353), sums, nil)
	reportHas(t, out,
		// per-round 0.96 and 0.99: median 0.975
		"**local address=: frontdesk dnsmasq (dashboard watched) / frontdesk dnsmasq = 0.975**, median of the per-round ratios (target ≥ 0.98: BELOW)",
		"**cached forward: frontdesk dnsmasq (dashboard watched) / frontdesk dnsmasq = 1.000**, median of the per-round ratios (target ≥ 0.98: meets)",
		"| local address=: frontdesk dnsmasq (dashboard watched) / frontdesk dnsmasq | 0.960 | 0.990 |",
	)
	if strings.Contains(out, "local address=: "+twin+" CPU") || strings.Contains(out, "**local address=: "+twin+" / dnsmasq") {
		t.Errorf("the twin got a target line of frontdesk dnsmasq's:\n%s", out)
	}
}
