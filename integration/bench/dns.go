package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// The DNS benchmark: dnsperf against Frontdesk's dnsmasq app and the real
// dnsmasq, with the same dnsmasq lines, and CoreDNS when its binary is
// there, in two scenarios: local answers (address= for the dnsmasqs, the
// hosts plugin for CoreDNS), and forwards answered from the cache after a
// warm-up.

// DNS server names, in the order they are measured each round.
const (
	dnsFrontdesk = "frontdesk dnsmasq"
	dnsDnsmasq   = "dnsmasq"
	dnsCoreDNS   = "coredns"
)

// coreDNSCorefile is CoreDNS's configuration for the same two scenarios:
// the local names from the hosts plugin in their own zone (so the cache
// does not answer for them), everything else through cache and forward.
// %[1]d is the port, %[2]s the hosts lines, %[3]d the cache capacity,
// %[4]s the upstream.
const coreDNSCorefile = `bench.local:%[1]d {
	bind 127.0.0.1
	hosts {
%[2]s	}
}
.:%[1]d {
	bind 127.0.0.1
	cache 3600 {
		success %[3]d
	}
	forward . %[4]s
}
`

// dnsCacheSize is the cache-size= line of both servers.
const dnsCacheSize = 10000

// coreDNSCPUPerQuery is CoreDNS 1.15's CPU per query with its hosts plugin
// as measured in issue 3 (µs): the bar for Frontdesk's CPU per query. That
// machine measured dnsmasq at dnsmasqRefCPUPerQuery, so on another machine
// the same bar is CoreDNS's multiple of dnsmasq's CPU per query.
const (
	coreDNSCPUPerQuery    = 7.0
	dnsmasqRefCPUPerQuery = 2.7
)

// dnsScenario is a query file and what its names must answer.
type dnsScenario struct {
	Name    string
	Names   []string // every name is queried for A and must answer 127.0.0.1
	Forward bool     // answered from the cache of upstream answers
	File    string
}

// dnsScenarios returns the two scenarios: 10 names under address=/bench.local/
// and the upstream's 100 names.
func dnsScenarios() []dnsScenario {
	local := []string{"bench.local"}
	for i := 1; i < 10; i++ {
		local = append(local, fmt.Sprintf("h%d.bench.local", i))
	}
	var fwd []string
	for i := range upstreamNames {
		fwd = append(fwd, strings.TrimSuffix(upstreamName(i), "."))
	}
	return []dnsScenario{
		{Name: "local address=", Names: local},
		{Name: "cached forward", Names: fwd, Forward: true},
	}
}

// dnsmasqLines are the configuration both servers run, one dnsmasq.conf
// line each; upstream is the upstream's port.
func dnsmasqLines(upstream int) []string {
	return []string{
		"no-hosts",
		"no-resolv",
		"cache-size=" + strconv.Itoa(dnsCacheSize),
		"address=/bench.local/127.0.0.1",
		"server=127.0.0.1#" + strconv.Itoa(upstream),
	}
}

// dnsFrontdeskCaddyfile is Frontdesk's Caddyfile: only global options, the
// dnsmasq block holding %s (the lines, indented).
const dnsFrontdeskCaddyfile = `{
	admin {$FRONTDESK_ADMIN}
	persist_config off
	dnsmasq {
%s	}
}
`

// dnsServer is one server under test.
type dnsServer struct {
	Name string
	Port int
	PGrp int
	// Dashboard is the admin API of a Frontdesk whose dashboard is
	// watched through every run (dashboard.go); "" for none.
	Dashboard string
}

func (s dnsServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// dnsRun is one dnsperf run against one server in one scenario.
type dnsRun struct {
	dnsperfResult
	CPUPerQuery float64 // µs of the server's CPU per completed query
	PeakRSS     int64   // KiB, the server's peak during the run
	Upstream    int64   // queries the upstream answered during the run
	OtherCPU    float64
	Retries     int
}

// dnsSummary is one server's medians over the rounds of one scenario.
type dnsSummary struct {
	Scenario, Server string
	QPS, CPUPerQuery float64
	PeakRSS          int64 // the largest of the runs
	Rounds           []dnsRun
}

func summarizeDNS(scenario, server string, runs []dnsRun) dnsSummary {
	s := dnsSummary{Scenario: scenario, Server: server, Rounds: runs}
	var qps, cpu []float64
	for _, r := range runs {
		qps = append(qps, r.QPS)
		cpu = append(cpu, r.CPUPerQuery)
		s.PeakRSS = max(s.PeakRSS, r.PeakRSS)
	}
	s.QPS, s.CPUPerQuery = median(qps), median(cpu)
	return s
}

// dnsBench starts the upstream and both servers, runs dnsperf round after
// round and returns the DNS part of the report.
func dnsBench(ctx context.Context, c config, ps *procs, dir, bin string, t tools) (string, error) {
	dir = filepath.Join(dir, "dns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	upstream, upPort, err := startDNSUpstreamPort(ps, dir)
	if err != nil {
		return "", err
	}
	step("dns upstream on %s", upstream)
	lines := dnsmasqLines(upPort)

	var servers []dnsServer
	frontdesks := []dnsFrontdeskSpec{{dnsFrontdesk, "frontdesk-dns", false}}
	if c.dashboard { // the twin, measured right before it
		frontdesks = slices.Insert(frontdesks, 0, dnsFrontdeskSpec{watchedName(dnsFrontdesk), "frontdesk-dns-dashboard", true})
	}
	for _, f := range frontdesks {
		s, err := startFrontdeskDNS(ps, bin, dir, f, lines)
		if err != nil {
			return "", err
		}
		servers = append(servers, s)
		step("%s on %s", s.Name, s.addr())
	}

	dmPort, err := harness.FreeUDPTCPPort()
	if err != nil {
		return "", err
	}
	dm, err := harness.StartDnsmasq(filepath.Join(dir, "dnsmasq"), strings.Join(lines, "\n")+"\n", dmPort)
	if dm != nil {
		ps.add(dm.Process)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", dnsDnsmasq, err)
	}
	servers = append(servers, dnsServer{Name: dnsDnsmasq, Port: dmPort, PGrp: dm.PID()})
	step("%s on 127.0.0.1:%d", dnsDnsmasq, dmPort)

	scenarios := dnsScenarios()
	var notes []string
	if t.coredns == "" {
		notes = append(notes, "CoreDNS was not run (no coredns binary: -coredns, or `make bench`, which installs it into bin/); its CPU per query is issue 3's figure")
	} else {
		cdPort, err := harness.FreeUDPTCPPort()
		if err != nil {
			return "", err
		}
		var hosts strings.Builder
		fmt.Fprintf(&hosts, "\t\t127.0.0.1 %s\n", strings.Join(scenarios[0].Names, " "))
		corefile := filepath.Join(dir, "Corefile")
		if err := os.WriteFile(corefile, []byte(fmt.Sprintf(coreDNSCorefile, cdPort, hosts.String(), dnsCacheSize, upstream)), 0o644); err != nil {
			return "", err
		}
		cd, err := harness.Start(dir, "coredns", nil, dir, t.coredns, "-conf", corefile)
		if err != nil {
			return "", fmt.Errorf("%s: %w", dnsCoreDNS, err)
		}
		ps.add(cd)
		if err := cd.WaitTCP("127.0.0.1:"+strconv.Itoa(cdPort), 10*time.Second); err != nil {
			return "", fmt.Errorf("%s: %w", dnsCoreDNS, err)
		}
		servers = append(servers, dnsServer{Name: dnsCoreDNS, Port: cdPort, PGrp: cd.PID()})
		step("%s on 127.0.0.1:%d", dnsCoreDNS, cdPort)
	}

	// Query files, and every name answered right by every server; the
	// forwarded names are now in every cache.
	for i := range scenarios {
		sc := &scenarios[i]
		sc.File = filepath.Join(dir, fmt.Sprintf("queries-%d.txt", i))
		var q strings.Builder
		for _, n := range sc.Names {
			q.WriteString(n + " A\n")
		}
		if err := os.WriteFile(sc.File, []byte(q.String()), 0o644); err != nil {
			return "", err
		}
	}
	if _, err := fillDNSCaches(upstream, scenarios, servers); err != nil {
		return "", err
	}

	ours := ps.ids()
	ours[os.Getpid()] = true
	m := &dnsMeasurer{measurer: measurer{ctx: ctx, c: c, meter: newCPUMeter(ours), notes: notes}, dnsperf: t.dnsperf, upstream: upstream}
	results, err := m.measure(scenarios, servers)
	if err != nil {
		return "", err
	}
	var sums []dnsSummary
	for _, sc := range scenarios {
		for _, s := range servers {
			sums = append(sums, summarizeDNS(sc.Name, s.Name, results[dnsKey{sc.Name, s.Name}]))
		}
	}
	return dnsReport(c, lines, sums, append(m.notes, dnsVarianceNotes(sums, c.retryBusy)...)), nil
}

// dnsFrontdeskSpec is one Frontdesk of the DNS rounds.
type dnsFrontdeskSpec struct {
	name, file string
	watched    bool // its dashboard watched through every run
}

// startFrontdeskDNS runs frontdesk with only a dnsmasq block of lines, on
// a port of its own.
func startFrontdeskDNS(ps *procs, bin, dir string, f dnsFrontdeskSpec, lines []string) (dnsServer, error) {
	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		return dnsServer{}, err
	}
	var block strings.Builder
	for _, l := range append([]string{"port=" + strconv.Itoa(port), "listen-address=127.0.0.1"}, lines...) {
		block.WriteString("\t\t" + l + "\n")
	}
	conf := filepath.Join(dir, f.file+".Caddyfile")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(dnsFrontdeskCaddyfile, block.String())), 0o644); err != nil {
		return dnsServer{}, err
	}
	fd, err := harness.StartFrontdesk(bin, dir, f.file, conf, nil, "127.0.0.1:"+strconv.Itoa(port))
	if fd != nil {
		ps.add(fd.Process)
	}
	if err != nil {
		return dnsServer{}, fmt.Errorf("%s: %w", f.name, err)
	}
	s := dnsServer{Name: f.name, Port: port, PGrp: fd.PID()}
	if f.watched {
		s.Dashboard = fd.Admin
	}
	return s, nil
}

// startDNSUpstreamPort starts the upstream on a free port of 127.0.0.1
// and returns its address and port.
func startDNSUpstreamPort(ps *procs, dir string) (string, int, error) {
	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		return "", 0, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := startDNSUpstream(ps, dir, addr); err != nil {
		return "", 0, fmt.Errorf("dns upstream: %w", err)
	}
	return addr, port, nil
}

// fillDNSCaches queries every name of every scenario on every server,
// twice; the second pass must not reach the upstream (the caches hold). It
// returns the upstream's count, which must not grow from then on.
func fillDNSCaches(upstream string, scenarios []dnsScenario, servers []dnsServer) (int64, error) {
	var before int64
	for pass := range 2 {
		for _, sc := range scenarios {
			for _, s := range servers {
				for _, n := range sc.Names {
					if err := checkA(s.addr(), n); err != nil {
						return 0, fmt.Errorf("%s: %v", s.Name, err)
					}
				}
			}
		}
		after, err := upstreamCount(upstream)
		if err != nil {
			return 0, err
		}
		if pass == 1 && after != before {
			return 0, fmt.Errorf("the upstream answered %d queries on the second pass: a server does not cache", after-before)
		}
		before = after
	}
	return before, nil
}

// startDNSUpstream re-executes this program with -serve-dns addr and waits
// until it answers.
func startDNSUpstream(ps *procs, dir, addr string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	p, err := harness.Start(dir, "dns-upstream", nil, dir, self, "-serve-dns", addr)
	if err != nil {
		return err
	}
	ps.add(p)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := upstreamCount(addr); err == nil {
			return nil
		} else if p.Exited() || time.Now().After(deadline) {
			return fmt.Errorf("the upstream did not answer on %s: %v\n%s", addr, err, p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type dnsKey struct{ scenario, server string }

// dnsMeasurer runs dnsperf: warm-up, then the rounds.
type dnsMeasurer struct {
	measurer
	dnsperf  string
	upstream string
}

func (m *dnsMeasurer) measure(scenarios []dnsScenario, servers []dnsServer) (map[dnsKey][]dnsRun, error) {
	warm := m.c.dns
	warm.Duration = m.c.warmup
	return measureRounds(&m.measurer, cross(scenarios, servers),
		func(p pair[dnsScenario, dnsServer]) dnsKey { return dnsKey{p.a.Name, p.b.Name} },
		func(p pair[dnsScenario, dnsServer]) error {
			step("dns warm-up %s, %s (%s)", p.a.Name, p.b.Name, m.c.warmup)
			if _, _, err := watching(p.b.Dashboard, func() (dnsperfResult, time.Duration, error) {
				return runDnsperf(m.ctx, m.dnsperf, warm, p.b.Port, p.a.File)
			})(); err != nil {
				return fmt.Errorf("%s: %w", p.b.Name, err)
			}
			return nil
		},
		func(r int, p pair[dnsScenario, dnsServer]) (dnsRun, error) { return m.once(r, p.a, p.b) })
}

// once runs dnsperf against s in scenario sc, again if other processes
// disturbed the run.
func (m *dnsMeasurer) once(r int, sc dnsScenario, s dnsServer) (dnsRun, error) {
	srv := runServer{pgrp: s.PGrp, count: func() (int64, error) { return upstreamCount(m.upstream) }}
	run, err := measureRun(&m.measurer, srv, func() (dnsperfResult, time.Duration, error) {
		res, cpu, err := watching(s.Dashboard, func() (dnsperfResult, time.Duration, error) {
			return runDnsperf(m.ctx, m.dnsperf, m.c.dns, s.Port, sc.File)
		})()
		if err != nil {
			err = fmt.Errorf("round %d: %s, %s: %w", r, sc.Name, s.Name, err)
		}
		return res, cpu, err
	}, func(res dnsperfResult, u runUsage) (dnsRun, error) {
		run := dnsRun{dnsperfResult: res, OtherCPU: u.OtherCPU, Retries: u.Retries, PeakRSS: u.PeakRSS,
			CPUPerQuery: u.perUnit(res.Completed), Upstream: u.Count}
		step("round %d/%d %-15s %-18s %10s q/s  %5.2f µs CPU/query  peak %s  other CPU %.2f", r, m.c.rounds, sc.Name, s.Name,
			formatThousands(res.QPS), run.CPUPerQuery, formatKiB(run.PeakRSS), run.OtherCPU)
		if res.Completed == 0 {
			return run, fmt.Errorf("round %d: %s answered no query in %s", r, s.Name, sc.Name)
		}
		return run, nil
	})
	if err != nil {
		return run, err
	}
	if float64(run.Lost) > 0.001*float64(run.Sent) || run.NoError != run.Completed {
		m.note("round %d: %s, %s: %d of %d queries lost, %d of the completed not NOERROR",
			r, sc.Name, s.Name, run.Lost, run.Sent, run.Completed-run.NoError)
	}
	if run.Upstream > 0 {
		m.note("round %d: %s, %s: the upstream answered %d queries during the run (the cache did not hold)",
			r, sc.Name, s.Name, run.Upstream)
	}
	return run, nil
}

func (s dnsSummary) names() (string, string) { return s.Scenario, s.Server }

// dnsReport renders the DNS part of the Markdown report.
func dnsReport(c config, lines []string, sums []dnsSummary, notes []string) string {
	var b strings.Builder
	o := c.dns
	b.WriteString("### DNS: local address= answers and cached forwards\n\n")
	fmt.Fprintf(&b, "dnsperf %s, %d rounds interleaved (order reversed every other round), medians; "+
		"both dnsmasqs run the same lines (`%s`; Frontdesk adds `port=` and `listen-address=127.0.0.1`); "+
		"CoreDNS, when run, answers the local names from its hosts plugin in a zone of their own and the rest through cache (same capacity) and forward; "+
		"UDP over loopback; the forwarded names (%d, TTL %d s) were in every cache before the first run. "+
		"CPU is the server's user+system time over completed queries; peak RSS is the largest VmHWM of the runs.\n\n",
		strings.Replace(strings.Join(o.args(0, "FILE"), " "), "-p 0 ", "-p PORT ", 1), c.rounds, strings.Join(lines, "`, `"), upstreamNames, upstreamTTL)
	b.WriteString("| scenario | server | q/s (median) | CPU µs/query (median) | vs dnsmasq (per-round) | peak RSS |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|\n")
	var rows []ratioRow
	for _, s := range sums {
		ratio := "1.000"
		if s.Server != dnsDnsmasq {
			ratio = "n/a"
			if den := findPair(sums, s.Scenario, dnsDnsmasq); den != nil {
				if rs := perRound(s.Rounds, den.Rounds); len(rs) > 0 {
					ratio = fmt.Sprintf("%.3f", median(rs))
					rows = append(rows, ratioRow{s.Scenario + ": " + s.Server + " / " + dnsDnsmasq, rs})
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s | %s |\n", s.Scenario, s.Server, formatThousands(s.QPS), s.CPUPerQuery, ratio, formatKiB(s.PeakRSS))
	}
	b.WriteString("\n")
	for _, row := range rows {
		if !strings.Contains(row.label, dnsFrontdesk+" / ") {
			continue // the target is Frontdesk's (its watched twin has its own, dashboardRatios)
		}
		r := median(row.rounds)
		verdict := "meets"
		if r < 1 {
			verdict = "BELOW"
		}
		fmt.Fprintf(&b, "**%s = %.3f** q/s, median of the per-round ratios (target ≥ 1.00: %s)\n\n", row.label, r, verdict)
	}
	var scenarios []string
	for _, s := range sums {
		if s.Server == dnsFrontdesk {
			scenarios = append(scenarios, s.Scenario)
		}
	}
	dashboardRows := dashboardRatios(&b, sums, scenarios, dnsFrontdesk, func(s *dnsSummary) []dnsRun { return s.Rounds })
	bar := coreDNSCPUPerQuery / dnsmasqRefCPUPerQuery
	for _, s := range sums {
		if s.Server != dnsFrontdesk {
			continue
		}
		if cd := findPair(sums, s.Scenario, dnsCoreDNS); cd != nil && cd.CPUPerQuery > 0 {
			// Measured side by side: the bar is CoreDNS itself.
			verdict := "meets"
			if s.CPUPerQuery > cd.CPUPerQuery {
				verdict = "WORSE"
			}
			fmt.Fprintf(&b, "%s: %s CPU %.2f µs/query (target ≤ CoreDNS's %.2f µs measured in the same rounds: %s)\n\n",
				s.Scenario, s.Server, s.CPUPerQuery, cd.CPUPerQuery, verdict)
			continue
		}
		verdict := "meets"
		if s.CPUPerQuery > coreDNSCPUPerQuery {
			verdict = "WORSE"
		}
		fmt.Fprintf(&b, "%s: %s CPU %.2f µs/query (target ≤ CoreDNS's %.0f µs: %s", s.Scenario, s.Server, s.CPUPerQuery, coreDNSCPUPerQuery, verdict)
		if dm := findPair(sums, s.Scenario, dnsDnsmasq); dm != nil && dm.CPUPerQuery > 0 {
			rel := s.CPUPerQuery / dm.CPUPerQuery
			verdict = "meets"
			if rel > bar {
				verdict = "WORSE"
			}
			fmt.Fprintf(&b, "; %.2f× dnsmasq's %.2f µs here, against CoreDNS's %.1f× dnsmasq's (%.0f / %.1f µs in issue 3): %s",
				rel, dm.CPUPerQuery, bar, coreDNSCPUPerQuery, dnsmasqRefCPUPerQuery, verdict)
		}
		b.WriteString(")\n\n")
	}

	var table []roundsRow
	for _, s := range sums {
		row := roundsRow{label: s.Scenario + ", " + s.Server}
		for _, r := range s.Rounds {
			row.cells = append(row.cells, roundCell(fmt.Sprintf("%s, %.2f", formatThousands(r.QPS), r.CPUPerQuery), r.OtherCPU, r.Retries))
		}
		table = append(table, row)
	}
	writeRoundsTable(&b, "q/s, server CPU µs/query", "scenario, server", "", c.rounds, table, append(rows, dashboardRows...))
	writeNotes(&b, notes)
	return b.String()
}

// dnsVarianceNotes flags disturbed runs and servers whose rounds disagree.
func dnsVarianceNotes(sums []dnsSummary, retryBusy float64) []string {
	var plain []summary
	for _, s := range sums {
		plain = append(plain, summarizeRuns(s.Scenario+", "+s.Server, s.Rounds))
	}
	notes := spreadNotes(plain)
	worst, retried, _ := disturbance(plain, retryBusy)
	if retried > 0 {
		notes = append(notes, fmt.Sprintf("%d DNS runs were repeated because other processes took more than %.2f cores during them", retried, retryBusy))
	}
	if worst > 0.1 {
		notes = append(notes, fmt.Sprintf("other processes kept up to %.2f cores busy during the kept DNS runs: the figures are noisy", worst))
	}
	return notes
}

// figures are the run's q/s as req/s, for the variance notes.
func (r dnsRun) figures() wrkResult {
	return wrkResult{RequestsPerSec: r.QPS, OtherCPU: r.OtherCPU, Retries: r.Retries}
}
