package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// keyRatio is a throughput ratio between two targets that run back to back
// in every round, with the least value that counts as "costs nothing worth
// mentioning".
type keyRatio struct {
	Label    string
	Num, Den string // target names
	Target   float64
	Detail   string // what the ratio compares, for the report
}

// keyRatios are the ratios the report leads with.
var keyRatios = []keyRatio{
	{Label: "header_policy / reverse_proxy", Num: targetHeaderPolicy, Den: targetReverseProxy, Target: 0.97},
	{Label: "healthgate / static", Num: targetHealthgate, Den: targetHeaderPolicy, Target: 0.97,
		Detail: "`" + targetHealthgate + "` / `" + targetHeaderPolicy + "`: the same binary and header_policy, a healthgate upstream against a static one"},
	{Label: "healthgate dashboard watched / unwatched", Num: watchedName(targetHealthgate), Den: targetHealthgate, Target: dashboardTarget,
		Detail: "`" + watchedName(targetHealthgate) + "` / `" + targetHealthgate + "` (-dashboard): the same config, its dashboard data polled through every run"},
}

// tailRatio is the steady-state tail target of issue 16: healthgate's p99
// at most Target times a static upstream's, in every round (the two run
// back to back in each round).
var tailRatio = struct {
	Label    string
	Num, Den string
	Target   float64
}{"healthgate p99 / static p99", targetHealthgate, targetHeaderPolicy, 1.2}

// p99PerRound returns num's p99 divided by den's, round by round, leaving
// out rounds where den's is 0.
func p99PerRound(num, den []wrkResult) []float64 {
	var rs []float64
	for i := range min(len(num), len(den)) {
		if d := den[i].P99; d > 0 {
			rs = append(rs, float64(num[i].P99)/float64(d))
		}
	}
	return rs
}

// tailVerdict writes the tail target's line and returns its per-round
// row, or nothing when either target is missing.
func tailVerdict(b *strings.Builder, sums []summary) []ratioRow {
	num, den := find(sums, tailRatio.Num), find(sums, tailRatio.Den)
	if num == nil || den == nil {
		return nil
	}
	rounds := p99PerRound(num.Rounds, den.Rounds)
	if len(rounds) == 0 {
		return nil
	}
	var over []string
	for i, r := range rounds {
		if r > tailRatio.Target {
			over = append(over, strconv.Itoa(i+1))
		}
	}
	verdict := "meets"
	if len(over) > 0 {
		verdict = "ABOVE in round " + strings.Join(over, ", ")
	}
	fmt.Fprintf(b, "**%s ≤ %.1f in every round: %s** (worst %.3f, median %.3f; `%s` / `%s`, run back to back)\n\n",
		tailRatio.Label, tailRatio.Target, verdict, slices.Max(rounds), median(rounds), tailRatio.Num, tailRatio.Den)
	return []ratioRow{{tailRatio.Label, rounds}}
}

// roundRun is one run of the throughput, cache or DNS rounds.
type roundRun interface {
	figures() wrkResult // its rate (req/s or q/s) and interference
}

func (r wrkResult) figures() wrkResult { return r }

// perRound returns num's req/s (q/s) divided by den's, round by round,
// leaving out rounds where den's is 0.
func perRound[R roundRun](num, den []R) []float64 {
	var rs []float64
	for i := range min(len(num), len(den)) {
		if d := den[i].figures().RequestsPerSec; d > 0 {
			rs = append(rs, num[i].figures().RequestsPerSec/d)
		}
	}
	return rs
}

// pairSummary is a cache or DNS summary: an object or scenario and a
// server.
type pairSummary interface {
	names() (string, string)
}

// findPair returns the summary of a and server, or nil.
func findPair[S pairSummary](sums []S, a, server string) *S {
	for i := range sums {
		if x, y := sums[i].names(); x == a && y == server {
			return &sums[i]
		}
	}
	return nil
}

// summary is one target's medians over all rounds.
type summary struct {
	Name   string
	RPS    float64
	P99    time.Duration
	Rounds []wrkResult
}

func summarize(name string, rounds []wrkResult) summary {
	rps := make([]float64, len(rounds))
	p99 := make([]float64, len(rounds))
	for i, r := range rounds {
		rps[i] = r.RequestsPerSec
		p99[i] = float64(r.P99)
	}
	return summary{Name: name, RPS: median(rps), P99: time.Duration(median(p99)), Rounds: rounds}
}

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread is (max-min)/median of the req/s of every round, in percent.
func (s summary) spread() float64 {
	if len(s.Rounds) < 2 || s.RPS == 0 {
		return 0
	}
	lo, hi := s.Rounds[0].RequestsPerSec, s.Rounds[0].RequestsPerSec
	for _, r := range s.Rounds[1:] {
		lo, hi = min(lo, r.RequestsPerSec), max(hi, r.RequestsPerSec)
	}
	return (hi - lo) / s.RPS * 100
}

// report renders the throughput part of the Markdown report: the summary
// table, the key ratios, every round's figures and notes (errors,
// interference).
func report(c config, sums []summary, notes []string) string {
	var b strings.Builder
	upstream := "Caddy's default keepalive_idle_conns_per_host (32)"
	if c.idle > 0 {
		upstream = fmt.Sprintf("keepalive_idle_conns_per_host %d", c.idle)
	}
	fmt.Fprintf(&b, "wrk -t%d -c%d -d%s --latency, %d rounds interleaved (order reversed every other round), medians; 1 KiB JSON response over loopback; "+
		"nginx worker_processes %s, upstream keepalive 64; Frontdesk reverse_proxy with %s.\n\n",
		c.wrk.Threads, c.wrk.Connections, wrkDuration(c.wrk.Duration), c.rounds, nginxWorkers, upstream)

	base := find(sums, baseline)
	fmt.Fprintf(&b, "| target | req/s (median) | p99 (median) | vs `%s` |\n", baseline)
	b.WriteString("|---|---:|---:|---:|\n")
	for _, s := range sums {
		name := s.Name
		if name == targetNginx {
			name += " (worker_processes " + nginxWorkers + ")"
		}
		r := "n/a"
		if base != nil && base.RPS > 0 {
			r = fmt.Sprintf("%.3f", s.RPS/base.RPS)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, formatThousands(s.RPS), formatLatency(s.P99), r)
	}
	b.WriteString("\n")

	var ratioRows []ratioRow
	for _, k := range keyRatios {
		num, den := find(sums, k.Num), find(sums, k.Den)
		if num == nil || den == nil || den.RPS <= 0 {
			continue
		}
		// The paired ratio: both targets ran back to back in each round, so
		// the machine's drift between rounds cancels out of it.
		rounds := perRound(num.Rounds, den.Rounds)
		if len(rounds) == 0 {
			continue
		}
		ratioRows = append(ratioRows, ratioRow{k.Label, rounds})
		r := median(rounds)
		verdict := "meets"
		if r < k.Target {
			verdict = "BELOW"
		}
		detail := ""
		if k.Detail != "" {
			detail = "; " + k.Detail
		}
		fmt.Fprintf(&b, "**%s = %.3f**, median of the per-round ratios (target ≥ %.2f: %s; ratio of the medians: %.3f%s)\n\n",
			k.Label, r, k.Target, verdict, num.RPS/den.RPS, detail)
	}
	ratioRows = append(ratioRows, tailVerdict(&b, sums)...)

	var rows []roundsRow
	for _, s := range sums {
		row := roundsRow{label: s.Name, last: fmt.Sprintf("%.1f%%", s.spread())}
		for _, r := range s.Rounds {
			row.cells = append(row.cells, wrkCell(r))
		}
		rows = append(rows, row)
	}
	writeRoundsTable(&b, "req/s, p99", "target", "spread", c.rounds, rows, ratioRows)
	writeNotes(&b, notes)
	return b.String()
}

// ratioRow is a paired ratio's line in the per-round table.
type ratioRow struct {
	label  string
	rounds []float64
}

// roundsRow is a line of the per-round table: its label, a cell per round
// and, when the table has a last column, that column's cell.
type roundsRow struct {
	label string
	cells []string
	last  string
}

// writeRoundsTable writes the per-round table of the throughput, cache and
// DNS reports: figures names what a cell holds before the cores other
// processes used, first heads the label column, last (unless "") a last
// column after the rounds; the ratio rows follow the rows.
func writeRoundsTable(b *strings.Builder, figures, first, last string, rounds int, rows []roundsRow, ratios []ratioRow) {
	fmt.Fprintf(b, "Per round: %s, cores other processes used meanwhile (↻ = run again after interference).\n\n", figures)
	header := roundsRow{label: first, last: last}
	sep := "|---|" + strings.Repeat("---:|", rounds)
	for i := range rounds {
		header.cells = append(header.cells, fmt.Sprintf("round %d", i+1))
	}
	if last != "" {
		sep += "---:|"
	}
	for _, r := range ratios {
		row := roundsRow{label: r.label}
		for _, x := range r.rounds {
			row.cells = append(row.cells, fmt.Sprintf("%.3f", x))
		}
		rows = append(rows, row)
	}
	for i, row := range append([]roundsRow{header}, rows...) {
		fmt.Fprintf(b, "| %s |", row.label)
		for _, c := range row.cells {
			fmt.Fprintf(b, " %s |", c)
		}
		switch {
		case last == "":
		case row.last == "":
			b.WriteString(" |") // a ratio row has no spread
		default:
			fmt.Fprintf(b, " %s |", row.last)
		}
		b.WriteString("\n")
		if i == 0 {
			b.WriteString(sep + "\n")
		}
	}
}

// writeVerdict writes a paired ratio's line: the median of its per-round
// ratios against the least value that meets target.
func writeVerdict(b *strings.Builder, label string, rounds []float64, target float64) {
	verdict := "meets"
	if median(rounds) < target {
		verdict = "BELOW"
	}
	fmt.Fprintf(b, "**%s = %.3f**, median of the per-round ratios (target ≥ %.2f: %s)\n\n", label, median(rounds), target, verdict)
}

// roundCell is one run's cell in the per-round table: its figures, the
// cores other processes used meanwhile and a ↻ per repeat.
func roundCell(figures string, otherCPU float64, retries int) string {
	return fmt.Sprintf("%s, %.2f%s", figures, otherCPU, strings.Repeat(" ↻", retries))
}

// wrkCell is a wrk run's cell: req/s, p99, other processes' cores.
func wrkCell(r wrkResult) string {
	return roundCell(formatThousands(r.RequestsPerSec)+", "+formatLatency(r.P99), r.OtherCPU, r.Retries)
}

// writeNotes writes the report part's notes, if any.
func writeNotes(b *strings.Builder, notes []string) {
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range notes {
			fmt.Fprintf(b, "- %s\n", n)
		}
	}
}

// varianceNotes says which figures are shaky: runs disturbed by other
// processes and targets whose rounds disagree.
func varianceNotes(sums []summary, retryBusy float64) []string {
	var notes []string
	worst, retried, disturbed := disturbance(sums, retryBusy)
	if retried > 0 {
		notes = append(notes, fmt.Sprintf("%d runs were repeated because other processes took more than %.2f cores during them", retried, retryBusy))
	}
	if disturbed > 0 {
		notes = append(notes, fmt.Sprintf("%d of the kept runs were still disturbed after %d repeats", disturbed, maxRetries))
	}
	if worst > 0.1 {
		notes = append(notes, fmt.Sprintf("other processes kept up to %.2f cores busy during the kept runs: the machine was shared and the figures are noisy", worst))
	}
	return append(notes, spreadNotes(sums)...)
}

// disturbance returns the most cores other processes kept busy during a
// kept run of sums, how many runs were repeated, and how many kept runs
// were still above retryBusy.
func disturbance(sums []summary, retryBusy float64) (worst float64, retried, disturbed int) {
	for _, s := range sums {
		for _, r := range s.Rounds {
			worst = max(worst, r.OtherCPU)
			retried += r.Retries
			if retryBusy > 0 && r.OtherCPU > retryBusy {
				disturbed++
			}
		}
	}
	return worst, retried, disturbed
}

// spreadNotes names the summaries whose rounds disagree by more than 10%.
func spreadNotes(sums []summary) []string {
	var notes []string
	for _, s := range sums {
		if s.spread() > 10 {
			notes = append(notes, fmt.Sprintf("%s varied by %.1f%% between rounds; consider more or longer rounds", s.Name, s.spread()))
		}
	}
	return notes
}

// summarizeRuns is runs as a throughput summary named label, for the
// variance notes of the cache and DNS rounds.
func summarizeRuns[R roundRun](label string, runs []R) summary {
	var rounds []wrkResult
	for _, r := range runs {
		rounds = append(rounds, r.figures())
	}
	return summarize(label, rounds)
}

func find(sums []summary, name string) *summary {
	for i := range sums {
		if sums[i].Name == name {
			return &sums[i]
		}
	}
	return nil
}

// formatThousands writes v rounded, with thousands separators (req/s, counts).
func formatThousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// formatLatency writes d like wrk does: 604.00us, 1.38ms, 2.10s.
func formatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fus", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// environment describes the machine and the software measured, on one line.
func environment(c config, t tools, frontdesk string) string {
	s := fmt.Sprintf("%s; nproc %s; CPU %s; load average %s at the start; %s; frontdesk (Caddy) %s",
		time.Now().Format("2006-01-02 15:04:05 MST"), nproc(), cpuModel(), loadAverage(), runtime.Version(),
		firstWord(frontdesk, "version"))
	if c.throughput || c.cache {
		s += "; wrk " + wrkVersion(t.wrk)
	}
	if c.throughput || c.cache || c.failover {
		s += "; nginx " + nginxVersion(t.nginx)
	}
	if c.cache {
		s += "; varnish " + varnishVersion(t.varnishd)
	}
	if c.failover {
		s += "; haproxy " + haproxyVersion(t.haproxy)
	}
	if c.dnsMode {
		s += "; dnsmasq " + dnsmasqVersion(t.dnsmasq) + "; dnsperf " + dnsperfVersion(t.dnsperf)
		if t.coredns != "" {
			s += "; " + firstWord(t.coredns, "-version") // CoreDNS-1.15.0
		}
	}
	return s
}

// loadAverage is the machine's 1, 5 and 15 minute load averages from
// /proc/loadavg ("0.52 0.61 0.70"), or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// haproxyVersion reads "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - ..."
// from haproxy -v.
func haproxyVersion(haproxy string) string {
	out, _ := exec.Command(haproxy, "-v").CombinedOutput()
	return parseHAProxyVersion(string(out))
}

func parseHAProxyVersion(out string) string { return parseNamedVersion(out, "HAProxy") }

// parseNamedVersion reads V from a first line "name version V ...".
func parseNamedVersion(out, name string) string {
	line, _, _ := strings.Cut(out, "\n")
	if f := strings.Fields(line); len(f) >= 3 && f[0] == name && f[1] == "version" {
		return f[2]
	}
	return "unknown"
}

// varnishVersion reads "varnishd (varnish-7.1.1 revision ...)" from
// varnishd -V.
func varnishVersion(varnishd string) string {
	out, _ := exec.Command(varnishd, "-V").CombinedOutput()
	return parseVarnishVersion(string(out))
}

func parseVarnishVersion(out string) string {
	_, v, ok := strings.Cut(out, "(varnish-")
	if f := strings.Fields(v); ok && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// dnsmasqVersion reads "Dnsmasq version 2.90  Copyright ..." from
// dnsmasq --version.
func dnsmasqVersion(dnsmasq string) string {
	out, _ := exec.Command(dnsmasq, "--version").CombinedOutput()
	return parseDnsmasqVersion(string(out))
}

func parseDnsmasqVersion(out string) string { return parseNamedVersion(out, "Dnsmasq") }

func nproc() string {
	if out, err := exec.Command("nproc").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return strconv.Itoa(runtime.NumCPU())
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// wrkVersion reads "wrk debian/4.1.0-3+b2 [epoll] Copyright ..." (wrk -v
// prints it with its usage and exits 1).
func wrkVersion(wrk string) string {
	out, _ := exec.Command(wrk, "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	if f := strings.Fields(line); len(f) >= 2 && f[0] == "wrk" {
		return f[1]
	}
	return "unknown"
}

// nginxVersion reads "nginx version: nginx/1.22.1" from nginx -v.
func nginxVersion(nginx string) string {
	out, _ := exec.Command(nginx, "-v").CombinedOutput()
	s := strings.TrimSpace(string(out))
	if _, v, ok := strings.Cut(s, "nginx/"); ok {
		return v
	}
	return "unknown"
}

// firstWord runs bin with args and returns the first word of its output.
func firstWord(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(out)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
