package main

import (
	"strings"
	"testing"
	"time"
)

// reportHas fails t for every want that the report out lacks.
func reportHas(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7}, 7},
	} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestFormatRPS(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.6: "1,000", 42865.21: "42,865", 1234567: "1,234,567"} {
		if got := formatThousands(in); got != want {
			t.Errorf("formatThousands(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestReport(t *testing.T) {
	round := func(rps float64, other float64, retries int) wrkResult {
		return wrkResult{RequestsPerSec: rps, P99: 2 * time.Millisecond, Requests: 1000, OtherCPU: other, Retries: retries}
	}
	sums := []summary{
		summarize(targetDirect, []wrkResult{round(40000, 0, 0), round(41000, 0, 0), round(39000, 0, 0)}),
		summarize(targetHealthgate, []wrkResult{round(9604, 0, 0), round(9312, 0, 0), round(9702, 0, 0)}),
		summarize(targetHeaderPolicy, []wrkResult{round(9800, 0, 0), round(9700, 0.4, 2), round(9900, 0, 0)}),
		summarize(targetReverseProxy, []wrkResult{round(10000, 0, 0), round(10000, 0, 0), round(10000, 0, 0)}),
		summarize(targetNginx, []wrkResult{round(20000, 0, 0), round(20000, 0, 1), round(20000, 0, 0)}),
	}
	c := config{wrk: wrkOptions{Threads: 1, Connections: 64, Duration: 5 * time.Second}, rounds: 3}
	out := report(c, sums, varianceNotes(sums, 0.25))
	reportHas(t, out,
		"| direct | 40,000 | 2.00ms | 4.000 |",
		"| frontdesk header_policy | 9,800 | 2.00ms | 0.980 |",
		"| frontdesk reverse_proxy | 10,000 | 2.00ms | 1.000 |",
		"| nginx (worker_processes 1) | 20,000 | 2.00ms | 2.000 |",
		"**header_policy / reverse_proxy = 0.980**, median of the per-round ratios (target ≥ 0.97: meets; ratio of the medians: 0.980)",
		"9,700, 2.00ms, 0.40 ↻ ↻ |",
		"| header_policy / reverse_proxy | 0.980 | 0.970 | 0.990 | |",
		"| frontdesk healthgate | 9,604 | 2.00ms | 0.960 |",
		"**healthgate / static = 0.980**, median of the per-round ratios (target ≥ 0.97: meets; ratio of the medians: 0.980; `frontdesk healthgate` / `frontdesk header_policy`",
		"| healthgate / static | 0.980 | 0.960 | 0.980 | |",
		"**healthgate p99 / static p99 ≤ 1.2 in every round: meets** (worst 1.000, median 1.000;",
		"| healthgate p99 / static p99 | 1.000 | 1.000 | 1.000 | |",
		"3 runs were repeated",
		"1 of the kept runs were still disturbed",
	)
}

// TestReportRatioBelowTarget: a key ratio under its target says so, and one
// whose targets did not run is left out.
func TestReportRatioBelowTarget(t *testing.T) {
	round := func(rps float64) wrkResult { return wrkResult{RequestsPerSec: rps, P99: time.Millisecond, Requests: 1} }
	sums := []summary{
		summarize(targetHealthgate, []wrkResult{round(9000), round(9500)}),
		summarize(targetHeaderPolicy, []wrkResult{round(10000), round(10000)}),
	}
	c := config{wrk: wrkOptions{Threads: 1, Connections: 64, Duration: time.Second}, rounds: 2}
	out := report(c, sums, nil)
	if !strings.Contains(out, "**healthgate / static = 0.925**") || !strings.Contains(out, "target ≥ 0.97: BELOW") {
		t.Errorf("report:\n%s", out)
	}
	if strings.Contains(out, "header_policy / reverse_proxy") {
		t.Errorf("ratio against a target that did not run:\n%s", out)
	}
}

// TestTailVerdict: a round where healthgate's p99 is more than 1.2 times
// the static upstream's is named.
func TestTailVerdict(t *testing.T) {
	run := func(p99 time.Duration) wrkResult { return wrkResult{RequestsPerSec: 1, P99: p99, Requests: 1} }
	sums := []summary{
		summarize(targetHealthgate, []wrkResult{run(24 * ms), run(62 * ms), run(20 * ms)}),
		summarize(targetHeaderPolicy, []wrkResult{run(20 * ms), run(20 * ms), run(20 * ms)}),
	}
	var b strings.Builder
	rows := tailVerdict(&b, sums)
	if want := "**healthgate p99 / static p99 ≤ 1.2 in every round: ABOVE in round 2** (worst 3.100, median 1.200;"; !strings.Contains(b.String(), want) {
		t.Errorf("tailVerdict = %q, want %q", b.String(), want)
	}
	if len(rows) != 1 || len(rows[0].rounds) != 3 {
		t.Errorf("rows = %v", rows)
	}
	if rows := tailVerdict(&b, sums[:1]); rows != nil {
		t.Errorf("without the static target: %v", rows)
	}
}

func TestParseHAProxyVersion(t *testing.T) {
	out := "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term supported branch\n"
	if got := parseHAProxyVersion(out); got != "2.6.12-1+deb12u4" {
		t.Errorf("parseHAProxyVersion = %q", got)
	}
	if got := parseHAProxyVersion("bash: haproxy: not found"); got != "unknown" {
		t.Errorf("parseHAProxyVersion(junk) = %q", got)
	}
}
