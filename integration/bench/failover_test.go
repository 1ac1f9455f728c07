package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

const ms = time.Millisecond

func TestAggregate(t *testing.T) {
	samples := []sample{
		{At: 100 * ms, Backend: 0, Status: 200},
		{At: 150 * ms, Backend: 1, Status: 200}, // the victim before the kill
		{At: 200 * ms, Backend: 2, Status: 200},
		{At: 2010 * ms, Backend: -1, Status: 502},
		{At: 2005 * ms, Backend: -1, Status: 0}, // transport error, out of order
		{At: 2020 * ms, Backend: -1, Status: 502},
		{At: 2500 * ms, Backend: 0, Status: 200},
		{At: 3000 * ms, Backend: -1, Status: 200}, // no X-Backend
		{At: 6200 * ms, Backend: 1, Status: 200},
		{At: 6100 * ms, Backend: 1, Status: 200}, // the first after the restart
		{At: 7000 * ms, Backend: 1, Status: 503},
		{At: 8000 * ms, Backend: 2, Status: 200},
	}
	r := aggregate("p", samples, 3, 1, 2000*ms, 5000*ms, 5030*ms, 10*time.Second)
	want := failoverResult{Proxy: "p", Requests: 12, Failed: 4, Transport: 1, Statuses: map[int]int{502: 2, 503: 1},
		PerBackend: []int{2, 3, 2}, Unknown: 1, Recovery: 1100 * ms, FirstFail: 2005 * ms, LastFail: 7000 * ms,
		Kill: 2000 * ms, Restart: 5000 * ms, Ready: 5030 * ms, Elapsed: 10 * time.Second}
	if r.Requests != want.Requests || r.Failed != want.Failed || r.Transport != want.Transport ||
		r.Statuses[502] != 2 || r.Statuses[503] != 1 || len(r.Statuses) != 2 ||
		!slices.Equal(r.PerBackend, want.PerBackend) ||
		r.Unknown != want.Unknown || r.Recovery != want.Recovery || r.FirstFail != want.FirstFail ||
		r.LastFail != want.LastFail || r.During != 0 {
		t.Errorf("aggregate =\n%+v\nwant\n%+v", r, want)
	}
	if got := formatFailed(r); got != "4 (502 ×2, 503 ×1, transport ×1)" {
		t.Errorf("formatFailed = %q", got)
	}
}

// TestAggregateNoRecovery: a victim that never serves again has no recovery
// time, and one that served while it was down is flagged.
func TestAggregateNoRecovery(t *testing.T) {
	samples := []sample{
		{At: 100 * ms, Backend: 1, Status: 200},
		{At: 3000 * ms, Backend: 1, Status: 200}, // impossible: killed at 2 s
		{At: 6000 * ms, Backend: 0, Status: 200},
	}
	r := aggregate("nginx", samples, 3, 1, 2*time.Second, 5*time.Second, 5050*ms, 10*time.Second)
	if r.Recovery != -1 || r.During != 1 || r.Failed != 0 {
		t.Errorf("aggregate = %+v", r)
	}
	if got := formatRecovery(r.Recovery, r.Elapsed-r.Restart); got != "not within the 5.0 s left" {
		t.Errorf("formatRecovery = %q", got)
	}
	if got := formatRecovery(1234*ms, 5*time.Second); got != "1.23 s" {
		t.Errorf("formatRecovery = %q", got)
	}
}

func TestFailoverReport(t *testing.T) {
	results := []failoverResult{
		aggregate(failoverFrontdesk, []sample{{At: 6 * time.Second, Backend: 1, Status: 200}}, 3, 1, 2*time.Second, 5*time.Second, 5*time.Second+20*ms, 10*time.Second),
		aggregate(failoverNginx, []sample{{At: 2 * time.Second, Status: 502, Backend: -1}, {At: 3 * time.Second, Backend: 0, Status: 200}}, 3, 1, 2*time.Second, 5*time.Second, 5*time.Second, 10*time.Second),
	}
	out := failoverReport(results, 16)
	reportHas(t, out,
		"### Failover: one of three backends killed at 2 s, restarted at 5 s",
		"16 workers",
		"| proxy | phase | req/s | p50 | p99 | max | failed | time to serve again after restart |",
		"| frontdesk healthgate | after | 0 | 0.00us | 0.00us | 0.00us | 0 | 1.00 s |",
		"| nginx | before | 0 | 0.00us | 0.00us | 0.00us | 0 |  |",
		"| nginx | during | 1 | 0.00us | 0.00us | 0.00us | 1 |  |",
		"| nginx | after | 0 | 0.00us | 0.00us | 0.00us | 0 | not within the 5.0 s left |",
		"| proxy | req/s during ≥ 0.9× before | p99 during ≤ 2× before | failed = 0 | back within 2.5 s |",
		"| nginx | FAIL 0.00× | FAIL 0.00× | FAIL 1 | FAIL not within the 5.0 s left |",
		"failures from 2.00 s to 2.00 s",
		"max_fails=3 fail_timeout=30s",
		"check inter 1s fall 3 rise 2",
	)
}

// TestFailoverConfigs: the three proxies' configs carry the settings the
// report states; HAProxy's passes `haproxy -c` when haproxy is installed.
func TestFailoverConfigs(t *testing.T) {
	backends := []string{"127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083"}
	for name, v := range frontdeskVariants {
		block := frontdeskFailoverProxy(backends, v)
		if strings.Contains(block, "fail_duration") != (name == failoverFrontdeskPassive) ||
			strings.Contains(block, "observe off") != (name == failoverFrontdeskObserveOff) ||
			strings.Contains(block, "lb_try_duration") != (name != failoverFrontdeskNoRetry) {
			t.Errorf("%s:\n%s", name, block)
		}
	}
	fd := frontdeskFailoverProxy(backends, frontdeskVariants[failoverFrontdesk])
	for _, want := range []string{"to 127.0.0.1:18081 127.0.0.1:18082 127.0.0.1:18083", "interval 1s", "fall 3", "rise 2",
		"lb_try_duration 5s", "keepalive_idle_conns_per_host 64"} {
		if !strings.Contains(fd, want) {
			t.Errorf("frontdesk config lacks %q:\n%s", want, fd)
		}
	}
	if strings.Contains(fd, "lb_try_interval") {
		t.Errorf("the recommended configuration sets no lb_try_interval (healthgate's is 5 ms):\n%s", fd)
	}
	ng := nginxFailoverConf(backends, "127.0.0.1:18080")
	if strings.Count(ng, "max_fails=3 fail_timeout=30s;") != 3 || !strings.Contains(ng, "proxy_next_upstream error timeout;") {
		t.Errorf("nginx config:\n%s", ng)
	}
	hp := haproxyFailoverConf(backends, "127.0.0.1:18080")
	if strings.Count(hp, "check inter 1s fall 3 rise 2") != 3 || !strings.Contains(hp, "option httpchk GET /healthz") {
		t.Errorf("haproxy config:\n%s", hp)
	}
	if bin, err := exec.LookPath(harness.HAProxyBin()); err == nil {
		cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
		if err := writeFile(cfg, "global\n    nbthread 1\n\n"+hp); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bin, "-c", "-f", cfg).CombinedOutput(); err != nil {
			t.Errorf("haproxy -c: %v\n%s", err, out)
		}
	}
}

func TestThroughputProxy(t *testing.T) {
	if got := throughputProxy("x", false, 0); got != " {$BENCH_BACKEND}" {
		t.Errorf("static, default idle: %q", got)
	}
	got := throughputProxy("x", true, 64)
	for _, want := range []string{"dynamic healthgate bench {", "to {$BENCH_BACKEND}", "interval 1s", "rise 1", "keepalive_idle_conns_per_host 64"} {
		if !strings.Contains(got, want) {
			t.Errorf("healthgate block lacks %q:\n%s", want, got)
		}
	}
}

func TestPhasesAndLatency(t *testing.T) {
	var samples []sample
	for i := range 100 {
		samples = append(samples, sample{At: time.Duration(i) * 100 * ms, Latency: time.Duration(i+1) * ms, Backend: 0, Status: 200})
	}
	r := aggregate("p", samples, 3, 1, 2*time.Second, 5*time.Second, 5*time.Second, 10*time.Second)
	want := [3]phaseStats{
		{Requests: 20, Rate: 10, P50: 10 * ms, P99: 20 * ms, Max: 20 * ms},
		{Requests: 30, Rate: 10, P50: 35 * ms, P99: 50 * ms, Max: 50 * ms},
		{Requests: 50, Rate: 10, P50: 75 * ms, P99: 100 * ms, Max: 100 * ms},
	}
	if r.Phases != want || r.P99 != 99*ms || r.Slowest != 100*ms {
		t.Errorf("phases %+v, p99 %s, slowest %s", r.Phases, r.P99, r.Slowest)
	}
	if got := percentile([]float64{5, 1, 3}, 50); got != 3 {
		t.Errorf("percentile = %v", got)
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("percentile(nil) = %v", got)
	}
}

// TestTargetChecks: issue 16's four targets, each on its boundary.
func TestTargetChecks(t *testing.T) {
	r := failoverResult{Recovery: recoveryTarget, Elapsed: 10 * time.Second, Restart: 5 * time.Second}
	r.Phases[phaseBefore] = phaseStats{Rate: 1000, P99: 10 * ms}
	r.Phases[phaseDown] = phaseStats{Rate: 900, P99: 20 * ms}
	got := fmt.Sprint(targetChecks(r))
	if want := "[PASS 0.90× PASS 2.00× PASS 0 PASS 2.50 s]"; got != want {
		t.Errorf("on the boundary: %s, want %s", got, want)
	}
	r.Phases[phaseDown] = phaseStats{Rate: 899, P99: 21 * ms, Failed: 1}
	r.Failed, r.Recovery = 1, recoveryTarget+ms
	got = fmt.Sprint(targetChecks(r))
	if want := "[FAIL 0.90× FAIL 2.10× FAIL 1 FAIL 2.50 s]"; got != want {
		t.Errorf("past it: %s, want %s", got, want)
	}
	if line := verdictLine(r); !strings.Contains(line, "back within 2.5 s: FAIL") {
		t.Errorf("verdictLine = %q", line)
	}
}

// TestRoundsSummary: with several rounds, each run is labelled with its
// round and the summary counts the rounds that met each target.
func TestRoundsSummary(t *testing.T) {
	run := func(round int, failed int) failoverResult {
		r := failoverResult{Proxy: failoverFrontdesk, Round: round, Recovery: time.Second, Failed: failed}
		r.Phases[phaseBefore] = phaseStats{Rate: 100, P99: 10 * ms}
		r.Phases[phaseDown] = phaseStats{Rate: 100, P99: 10 * ms}
		return r
	}
	results := []failoverResult{run(1, 0), run(2, 3)}
	if got := results[1].label(); got != "frontdesk healthgate, round 2" {
		t.Errorf("label = %q", got)
	}
	want := "- frontdesk healthgate: every target met in 1 of 2 rounds (req/s during ≥ 0.9× before 2, p99 during ≤ 2× before 2, failed = 0 1, back within 2.5 s 2)"
	if got := roundsSummary(results); !strings.Contains(got, want) {
		t.Errorf("roundsSummary =\n%s\nwant %s", got, want)
	}
	if got := roundsSummary([]failoverResult{run(0, 0)}); got != "" {
		t.Errorf("one round: %q", got)
	}
	if got := run(0, 0).label(); got != failoverFrontdesk {
		t.Errorf("label without rounds = %q", got)
	}
}
