package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Issue 16's targets for a proxy while one of three backends is down.
const (
	// targetDownRate: req/s while the backend is down at least this times
	// the req/s before the kill.
	targetDownRate = 0.9
	// targetDownP99: p99 while it is down at most this times p99 before.
	targetDownP99 = 2.0
	// recoverySlack: the restarted backend serves again within rise ×
	// interval plus this, counted from its restart.
	recoverySlack = 500 * time.Millisecond
)

// recoveryTarget is the longest a restarted backend may take to serve
// again: healthgate's (and HAProxy's) rise × interval + recoverySlack.
const recoveryTarget = failoverRise*failoverInterval + recoverySlack

// targetCheck is one target's verdict for one proxy.
type targetCheck struct {
	Pass  bool
	Value string // the measured value, as the report shows it
}

func (c targetCheck) String() string {
	if c.Pass {
		return "PASS " + c.Value
	}
	return "FAIL " + c.Value
}

// targetChecks are a proxy's verdicts, in the order of targetHeaders.
func targetChecks(r failoverResult) []targetCheck {
	before, down := r.Phases[phaseBefore], r.Phases[phaseDown]
	rate, p99 := ratio(down.Rate, before.Rate), ratio(float64(down.P99), float64(before.P99))
	return []targetCheck{
		{rate >= targetDownRate, fmt.Sprintf("%.2f×", rate)},
		{p99 > 0 && p99 <= targetDownP99, fmt.Sprintf("%.2f×", p99)},
		{r.Failed == 0, strconv.Itoa(r.Failed)},
		{r.Recovery >= 0 && r.Recovery <= recoveryTarget, formatRecovery(r.Recovery, r.Elapsed-r.Restart)},
	}
}

// targetHeaders name the targets, as column headers.
var targetHeaders = []string{
	fmt.Sprintf("req/s during ≥ %.1f× before", targetDownRate),
	fmt.Sprintf("p99 during ≤ %.0f× before", targetDownP99),
	"failed = 0",
	"back within " + durationSeconds(recoveryTarget),
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// roundsSummary says, for each proxy run in several rounds, in how many of
// them it met each target; "" when every proxy ran once.
func roundsSummary(results []failoverResult) string {
	var b strings.Builder
	for _, proxy := range failoverProxies {
		var runs, all int
		met := make([]int, len(targetHeaders))
		for _, r := range results {
			if r.Proxy != proxy || r.Round == 0 {
				continue
			}
			runs++
			ok := true
			for i, c := range targetChecks(r) {
				if c.Pass {
					met[i]++
				}
				ok = ok && c.Pass
			}
			if ok {
				all++
			}
		}
		if runs == 0 {
			continue
		}
		var parts []string
		for i, n := range met {
			parts = append(parts, fmt.Sprintf("%s %d", targetHeaders[i], n))
		}
		fmt.Fprintf(&b, "- %s: every target met in %d of %d rounds (%s)\n", proxy, all, runs, strings.Join(parts, ", "))
	}
	if b.Len() == 0 {
		return ""
	}
	return "\nRounds that met each target:\n\n" + b.String()
}

// verdictLine is a proxy's verdicts on one line, for progress output.
func verdictLine(r failoverResult) string {
	var parts []string
	for i, c := range targetChecks(r) {
		parts = append(parts, targetHeaders[i]+": "+c.String())
	}
	return strings.Join(parts, ", ")
}

// formatRecovery writes a recovery time, or says that none came within the
// rest of the run (left).
func formatRecovery(d, left time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("not within the %.1f s left", left.Seconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// formatFailed writes the failures and what they were: "0", "12 (502 ×10,
// transport ×2)".
func formatFailed(r failoverResult) string {
	if r.Failed == 0 {
		return "0"
	}
	var parts []string
	codes := make([]int, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d ×%d", c, r.Statuses[c]))
	}
	if r.Transport > 0 {
		parts = append(parts, fmt.Sprintf("transport ×%d", r.Transport))
	}
	return fmt.Sprintf("%d (%s)", r.Failed, strings.Join(parts, ", "))
}

// failoverReport renders the failover table, the load profile, the proxies'
// settings and per-proxy details.
func failoverReport(results []failoverResult, workers int) string {
	var b strings.Builder
	b.WriteString("### Failover: one of three backends killed at 2 s, restarted at 5 s\n\n")
	fmt.Fprintf(&b, "Load: a Go client in the bench program, %d workers each sending GET / back to back over keep-alive connections "+
		"(closed loop, no pacing) for %s; a request fails when it gets no complete 2xx response within %s (a non-2xx status or a transport error). "+
		"The backends are this program's Go backend on three ports; each names itself in %s. "+
		"The middle one is killed with SIGKILL at %s and started again on the same port at %s. "+
		"\"Time to serve again\" runs from that restart to the first successful response from the restarted backend.\n\n",
		workers, durationSeconds(failoverEnd), durationSeconds(failoverTimeout), backendHeader,
		durationSeconds(failoverKillAt), durationSeconds(failoverRestartAt))
	b.WriteString("| proxy | phase | req/s | p50 | p99 | max | failed | time to serve again after restart |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		for i, p := range r.Phases {
			recovery := ""
			if i == phaseAfter {
				recovery = formatRecovery(r.Recovery, r.Elapsed-r.Restart)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.label(), phaseNames[i], formatThousands(p.Rate),
				formatLatency(p.P50), formatLatency(p.P99), formatLatency(p.Max), formatThousands(float64(p.Failed)), recovery)
		}
	}
	fmt.Fprintf(&b, "\nIssue 16's targets (\"during\" is from the kill to the restart; \"back\" counts from the restart, rise %d × interval %s + %s):\n\n",
		failoverRise, failoverInterval, recoverySlack)
	b.WriteString("| proxy | " + strings.Join(targetHeaders, " | ") + " |\n")
	b.WriteString("|---|" + strings.Repeat("---|", len(targetHeaders)) + "\n")
	for _, r := range results {
		var cells []string
		for _, c := range targetChecks(r) {
			cells = append(cells, c.String())
		}
		fmt.Fprintf(&b, "| %s | %s |\n", r.label(), strings.Join(cells, " | "))
	}
	b.WriteString(roundsSummary(results))
	b.WriteString("\nSettings:\n\n")
	fmt.Fprintf(&b, "- %s (the recommended configuration): `dynamic healthgate { interval 1s fall 3 rise 2 }` (checks GET /healthz), `lb_policy round_robin`, `lb_try_duration 5s` (no `lb_try_interval`: healthgate makes the retry wait 5 ms), keepalive_idle_conns_per_host 64; no passive or observe option: live traffic is observed by default (`observe connect reset limit 1`).\n", failoverFrontdesk)
	fmt.Fprintf(&b, "- %s: the same without `lb_try_duration`, healthgate's defaults and nothing else: with no retry option written, healthgate gives reverse_proxy one retry per other upstream (`lb_retries 2` here), at once, so the requests in flight on the killed backend are answered by another.\n", failoverFrontdeskNoRetry)
	fmt.Fprintf(&b, "- %s: the recommended configuration with `observe off`: only `fall` failed checks take the killed backend out.\n", failoverFrontdeskObserveOff)
	fmt.Fprintf(&b, "- %s: the recommended configuration plus reverse_proxy's passive health `fail_duration 1s`: an upstream whose request failed is skipped by this handler for 1 s.\n", failoverFrontdeskPassive)
	fmt.Fprintf(&b, "- %s: `server ... max_fails=3 fail_timeout=30s` (passive only, as in the seed), round robin, `proxy_next_upstream error timeout` (the default), upstream keepalive 64, worker_processes %s.\n", failoverNginx, nginxWorkers)
	fmt.Fprintf(&b, "- %s: `balance roundrobin`, `option httpchk GET /healthz`, `server ... check inter 1s fall 3 rise 2`, `option redispatch`, `retries 3`, nbthread 1.\n", failoverHAProxy)
	b.WriteString("\nDetails (times since the load began):\n\n")
	for _, r := range results {
		var per []string
		for i, n := range r.PerBackend {
			per = append(per, fmt.Sprintf("%d: %s", i+1, formatThousands(float64(n))))
		}
		fmt.Fprintf(&b, "- %s: %s req/s over the whole run; latency p99 %s, slowest %s; successful responses per backend %s",
			r.label(), formatThousands(float64(r.Requests)/r.Elapsed.Seconds()),
			formatLatency(r.P99), formatLatency(r.Slowest), strings.Join(per, ", "))
		if r.Unknown > 0 {
			fmt.Fprintf(&b, ", %d without %s", r.Unknown, backendHeader)
		}
		fmt.Fprintf(&b, "; killed at %.2f s, restarted at %.2f s, listening at %.2f s", r.Kill.Seconds(), r.Restart.Seconds(), r.Ready.Seconds())
		if r.Load != "" {
			fmt.Fprintf(&b, "; load average %s when the load began", r.Load)
		}
		if r.Failed > 0 {
			fmt.Fprintf(&b, "; failures from %.2f s to %.2f s", r.FirstFail.Seconds(), r.LastFail.Seconds())
		}
		if r.During > 0 {
			fmt.Fprintf(&b, "; WARNING: %d successful responses named the killed backend while it was down (more than %s after the kill)", r.During, failoverGrace)
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// durationSeconds writes a whole or fractional number of seconds: "2 s".
func durationSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}
