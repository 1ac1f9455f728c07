// Command bench measures what Frontdesk's header_policy and healthgate cost
// when proxying, side by side with plain reverse_proxy, nginx and no proxy at
// all; how fast proxy_cache answers hits next to nginx, Varnish and Caddy's
// respond; how Frontdesk, nginx and HAProxy ride out a backend that dies and
// comes back under load; and how Frontdesk's dnsmasq app answers DNS next
// to dnsmasq.
//
// From the repository root:
//
//	go run ./integration/bench [-duration 5s] [-rounds 5] [-connections 64] [-threads 1]
//		[-warmup 2s] [-retry-busy 0.25] [-upstream-idle 64] [-markdown FILE] [-keep]
//		[-throughput=true] [-cache=true] [-failover=true] [-failover-workers 16] [-failover-rounds 1]
//		[-dns=true] [-dns-clients 4] [-dns-threads 2] [-dns-outstanding 200]
//		[-instructions=false] [-instructions-dns=false] [-instr-requests 2000] [-dashboard=false]
//
// It builds ./cmd/frontdesk into a temporary directory and starts, on
// 127.0.0.1 only, a minimal Go backend (this program re-executed with the
// internal -serve-backend flag) that answers GET with a fixed 1 KiB JSON body,
// and in front of it:
//
//   - direct: no proxy, wrk talks to the backend;
//   - frontdesk healthgate: `header_policy nginx` + `reverse_proxy` whose
//     upstream comes from `dynamic healthgate` (checked every second,
//     serving after one pass; measured once it serves);
//   - frontdesk header_policy: `header_policy nginx` + `reverse_proxy`;
//   - frontdesk reverse_proxy: `reverse_proxy` alone (the baseline);
//   - nginx: the seed lab's server block (proxy_pass and its four
//     proxy_set_header lines) with upstream keepalive 64, worker_processes
//     as the harness sets it (1), which the report states.
//
// After one warm-up run per target, it runs `wrk -t1 -c64 -d5s --latency`
// against each target in turn, round after round (A B C D, D C B A, ...),
// and prints a Markdown table of the median req/s and p99 latency per target,
// the ratio to frontdesk reverse_proxy, and the key ratio, paired per round,
// header_policy / reverse_proxy and healthgate / static (frontdesk
// healthgate against frontdesk header_policy: the same binary and
// header_policy, a healthgate upstream against a static one), each with a
// target of at least 0.97, and healthgate's p99 over the static upstream's,
// round by round (issue 16: at most 1.2 in every round), then every round's
// figures. The targets run in the order direct, nginx, healthgate,
// header_policy, reverse_proxy, so that no paired target runs right after
// direct. During each run it measures from /proc how much CPU other
// processes took; a run disturbed by more than -retry-busy cores is run again
// (twice at most) and the report says so.
//
// Every Frontdesk target keeps up to 64 idle upstream connections, like nginx's
// keepalive 64. With Caddy's default of 32 (-upstream-idle 0), fewer than
// wrk's 64 client connections, they open and close backend connections all
// the time and the Frontdesk targets vary more than the difference being
// measured.
//
// Then the cache HIT rounds (-cache=false skips them): the backend also
// serves a 1 KiB and a 100 KiB object with Cache-Control: public,
// max-age=3600 and counts those requests. In front of it: Frontdesk's
// proxy_cache (storage memory, max_size 256m) + reverse_proxy, nginx with
// proxy_cache_path in the temporary directory and proxy_cache_valid 200 10m,
// Varnish (Debian's varnishd -F -s malloc,256m, a VCL with only the backend
// and an X-Cache-Status header, never the service), and, as the ceiling,
// the same frontdesk binary answering the same bodies with respond. Each
// cache is warmed and must answer X-Cache-Status: HIT (with Age, except
// nginx) before wrk runs, and the backend's count must not grow during a
// run. The same interleaved wrk rounds give req/s, p99, the server's CPU per
// request and its peak RSS per run (VmHWM of its process group, reset before
// each run through /proc/PID/clear_refs), and the paired ratios
// proxy_cache / respond (target ≥ 0.90) and proxy_cache / Varnish (≥ 1.00).
//
// Then the failover scenario (-failover=false skips it; each of
// -throughput, -cache, -failover and -dns can be turned off alone): three backends (the same Go backend on three ports, each
// naming itself in X-Backend), and in front of them in turn Frontdesk with
// healthgate's recommended configuration (interval 1s fall 3 rise 2,
// lb_try_duration 5s, no passive or observe option), the same without
// lb_try_duration, with observe off, and with reverse_proxy's fail_duration
// 1s, nginx with the seed's passive max_fails=3 fail_timeout=30s, and
// HAProxy with check inter 1s fall 3 rise 2. A Go load generator
// (-failover-workers concurrent keep-alive clients) runs for 10 s; the
// middle backend is killed with SIGKILL at 2 s and restarted on its port at
// 5 s. The failover table gives, per proxy and phase (before the kill,
// during the outage, after the restart), req/s, p50, p99 and max latency
// and failed requests (non-2xx or transport error), and the time from the
// restart until the restarted backend served again; then PASS or FAIL for
// each of issue 16's targets: req/s during ≥ 0.9× before, p99 during ≤ 2×
// before, no failed request, and back within rise × interval + 0.5 s.
// -failover-rounds N runs the whole scenario N times per proxy,
// interleaved, and says in how many rounds each proxy met each target.
//
// Last the DNS rounds (-dns=false skips them): dnsperf (-dns-clients,
// -dns-threads, -dns-outstanding; -l is -duration) against Frontdesk with
// only a global dnsmasq block and against Debian's dnsmasq, both with the
// same lines (no-hosts, no-resolv, cache-size=10000,
// address=/bench.local/127.0.0.1, server= a loopback upstream: this
// program re-executed with the internal -serve-dns flag, a miekg/dns server
// answering A for 100 names with TTL 3600). Scenarios: 10 names under
// address=, and the 100 upstream names answered from the cache (both caches
// are filled and checked before the runs; the upstream's query count must
// not grow during a run). Interleaved rounds give q/s, the server's CPU µs
// per completed query (utime+stime from /proc/PID/stat around the run),
// peak RSS per run, and the paired ratio to dnsmasq (target ≥ 1.00), and
// compare CPU per query with CoreDNS's 7 µs from issue 3.
//
// With -dashboard, the throughput, cache and DNS rounds each get one more
// target: a twin of frontdesk healthgate, frontdesk proxy_cache and
// frontdesk dnsmasq, with the same configuration in a process of its own,
// whose dashboard is watched through every run (its admin API's
// /frontdesk/dashboard/data polled before the run, which keeps the
// modules gathering their top lists and query log, and every 3 s during
// it, as the page polls; the run fails when the DNS log or the cache's
// top keys did not grow). The twin runs next to its target in every
// round, and the reports give the paired ratio watched / unwatched, with
// issue 15's target of at least 0.98.
//
// With -instructions it also runs the Frontdesk targets of the throughput
// and cache rounds (reverse_proxy, header_policy, healthgate, respond and
// proxy_cache with both objects) under valgrind's callgrind, GOGC=off, and
// counts the instructions each request costs the server (-instr-requests
// sequential GETs per run, -rounds interleaved runs): a count that machine
// load does not move, for the same ratios the wrk rounds give with ±20% noise.
// From each run's profile dump it reports instructions per request, all of
// them and without the Go runtime's idle search for work
// (runtime.findRunnable, whose share follows callgrind's pace: ±2% in the
// totals), and takes the ratios on the latter.
// -instructions-dns does the same for the DNS rounds: frontdesk dnsmasq
// (GOMAXPROCS=1; with -dashboard also its watched twin, its dashboard data
// polled before and after each run) and dnsmasq under callgrind, in both
// scenarios (the forwarded names in every cache first), -instr-requests
// UDP queries per run, eight at a time, each answer checked, reporting
// instructions per query in the same two ways and the paired ratios
// watched / unwatched (issue 15: at least 0.98) and, as a rough
// reference between Go and C, Frontdesk / dnsmasq. With -keep the dumps
// stay for callgrind_annotate.
//
// Every process it starts is stopped by PID at the end and on Ctrl-C. It
// needs wrk and nginx (Debian's /usr/bin/wrk and /usr/sbin/nginx), haproxy
// (Debian's /usr/sbin/haproxy, run in the foreground, never as a service)
// for the failover scenario, varnish for -cache, and dnsperf and dnsmasq for
// -dns. It is not a test: `go test` does not run it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// config is the command line.
type config struct {
	wrk       wrkOptions
	rounds    int
	warmup    time.Duration
	retryBusy float64 // re-run a run when others used more cores than this; 0: never
	idle      int     // keepalive_idle_conns_per_host for Frontdesk; 0: Caddy's default
	markdown  string
	keep      bool

	throughput bool // run the wrk rounds
	cache      bool // run the cache HIT rounds (wrk)
	failover   bool // run the failover scenario
	workers    int  // the failover load generator's concurrency
	foRounds   int  // runs of the failover scenario per proxy
	dnsMode    bool // run the DNS rounds (dnsperf)

	instructions  bool // run the callgrind instruction-count rounds
	instrDNS      bool // run the DNS callgrind instruction-count rounds
	instrRequests int  // requests per callgrind run

	coredns string // -coredns

	dashboard bool // add a watched-dashboard twin of the Frontdesk targets (dashboard.go)

	dns dnsperfOptions // its Duration is the wrk runs' -duration
}

func main() {
	var c config
	serveAddr := flag.String("serve-backend", "", "internal: run the backend on this address")
	backendTag := flag.String("backend-tag", "", "internal: the backend's X-Backend value")
	serveDNSAddr := flag.String("serve-dns", "", "internal: run the DNS upstream on this address")
	flag.DurationVar(&c.wrk.Duration, "duration", 5*time.Second, "length of each wrk run (whole seconds)")
	flag.IntVar(&c.rounds, "rounds", 5, "number of rounds; each round runs wrk once against every target")
	flag.IntVar(&c.wrk.Connections, "connections", 64, "wrk connections (-c)")
	flag.IntVar(&c.wrk.Threads, "threads", 1, "wrk threads (-t)")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "length of the warm-up wrk run per target; 0 for none")
	flag.Float64Var(&c.retryBusy, "retry-busy", 0.25, "run a measurement again (up to twice) when other processes kept more than this many cores busy during it; 0 never")
	flag.IntVar(&c.idle, "upstream-idle", 64, "keepalive_idle_conns_per_host in every Frontdesk throughput target's reverse_proxy, matching nginx's keepalive 64 (0: Caddy's default, 32)")
	flag.StringVar(&c.markdown, "markdown", "", "also write the Markdown report to this file")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary directory (binary, configs, logs)")
	flag.BoolVar(&c.throughput, "throughput", true, "run the throughput rounds (wrk)")
	flag.BoolVar(&c.failover, "failover", true, "run the failover scenario (Frontdesk, nginx, HAProxy; one of three backends killed and restarted under load)")
	flag.IntVar(&c.workers, "failover-workers", 16, "concurrent keep-alive clients of the failover load generator")
	flag.IntVar(&c.foRounds, "failover-rounds", 1, "runs of the failover scenario per proxy, interleaved (the order reversed every other round)")
	flag.BoolVar(&c.cache, "cache", true, "run the cache HIT rounds (Frontdesk proxy_cache, nginx proxy_cache, Varnish, Caddy respond; 1 KiB and 100 KiB)")
	flag.BoolVar(&c.dnsMode, "dns", true, "run the DNS rounds (dnsperf against Frontdesk's dnsmasq app and dnsmasq)")
	flag.BoolVar(&c.instructions, "instructions", false, "run the instruction-count rounds: the Frontdesk targets under valgrind's callgrind (slow; independent of machine load)")
	flag.BoolVar(&c.instrDNS, "instructions-dns", false, "run the DNS instruction-count rounds: frontdesk dnsmasq (and with -dashboard its watched twin) and dnsmasq under valgrind's callgrind, both DNS scenarios")
	flag.IntVar(&c.instrRequests, "instr-requests", 2000, "requests (DNS queries) per callgrind run")
	flag.BoolVar(&c.dashboard, "dashboard", false, "add to the throughput, cache and DNS rounds a twin of frontdesk healthgate, proxy_cache and dnsmasq whose dashboard is watched through every run, and report the ratio watched / unwatched (issue 15: at least 0.98)")
	flag.StringVar(&c.coredns, "coredns", "", "CoreDNS binary for the DNS rounds (default: coredns on PATH or bin/coredns; none: the rounds run without it)")
	flag.IntVar(&c.dns.Clients, "dns-clients", 4, "dnsperf clients (-c)")
	flag.IntVar(&c.dns.Threads, "dns-threads", 2, "dnsperf threads (-T); 0 for dnsperf's default")
	flag.IntVar(&c.dns.Outstanding, "dns-outstanding", 200, "dnsperf's maximum outstanding queries (-q; more than about 200 overflow the servers' default UDP receive buffer on loopback and are lost); 0 for dnsperf's default (100)")
	flag.Usage = usage
	flag.Parse()
	c.dns.Duration = c.wrk.Duration

	if *serveDNSAddr != "" {
		if err := serveDNS(*serveDNSAddr); err != nil {
			fmt.Fprintln(os.Stderr, "dns upstream:", err)
			os.Exit(1)
		}
		return
	}
	if *serveAddr != "" {
		if err := serveBackend(*serveAddr, *backendTag); err != nil {
			fmt.Fprintln(os.Stderr, "backend:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() > 0 || c.rounds < 1 || c.wrk.Connections < 1 || c.wrk.Threads < 1 ||
		c.wrk.Threads > c.wrk.Connections || c.wrk.Duration < time.Second || c.warmup < 0 ||
		c.retryBusy < 0 || c.idle < 0 || c.workers < 1 || c.foRounds < 1 || c.dns.Clients < 1 || c.dns.Threads < 0 || c.dns.Outstanding < 0 || c.instrRequests < 1 ||
		(!c.throughput && !c.cache && !c.failover && !c.dnsMode && !c.instructions && !c.instrDNS) {
		usage()
		os.Exit(2)
	}
	os.Exit(run(c))
}

// usage prints the flags, leaving out the internal -serve-backend.
func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintln(out, "usage: go run ./integration/bench [flags]")
	flag.VisitAll(func(f *flag.Flag) {
		if f.Name == "serve-backend" || f.Name == "backend-tag" || f.Name == "serve-dns" {
			return
		}
		def := ""
		if f.DefValue != "" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(out, "  -%s\n    \t%s%s\n", f.Name, f.Usage, def)
	})
}

// step reports progress on stderr; the report itself goes to stdout.
func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// run does the whole benchmark and returns the exit code.
func run(c config) int {
	t := tools{
		wrk:      findTool("wrk", "/usr/bin/wrk"),
		nginx:    findTool("nginx", "/usr/sbin/nginx"),
		haproxy:  findTool("haproxy", "/usr/sbin/haproxy"),
		varnishd: findTool("varnishd", "/usr/sbin/varnishd"),
		dnsperf:  findTool("dnsperf", "/usr/bin/dnsperf"),
		dnsmasq:  findTool("dnsmasq", "/usr/sbin/dnsmasq"),

		valgrind:         findTool("valgrind", "/usr/bin/valgrind"),
		callgrindControl: findTool("callgrind_control", "/usr/bin/callgrind_control"),
		coredns:          findCoreDNS(c.coredns),
	}
	var need []string
	if c.throughput || c.cache || c.failover {
		need = append(need, t.nginx)
	}
	if c.throughput || c.cache {
		need = append(need, t.wrk)
	}
	if c.cache {
		need = append(need, t.varnishd)
	}
	if c.failover {
		need = append(need, t.haproxy)
	}
	if c.dnsMode {
		need = append(need, t.dnsperf, t.dnsmasq)
		if t.coredns != "" {
			need = append(need, t.coredns)
		}
	}
	if c.instructions || c.instrDNS {
		need = append(need, t.valgrind, t.callgrindControl)
	}
	if c.instrDNS {
		need = append(need, t.dnsmasq)
	}
	for _, bin := range need {
		if _, err := os.Stat(bin); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s not found; install Debian's wrk, nginx, haproxy (for -failover), varnish (for -cache), dnsperf and dnsmasq (for -dns), valgrind (for -instructions)\n", bin)
			return 1
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ps := &procs{}
	defer ps.stopAll()

	// First Ctrl-C: stop wrk and every process, then let run return. A
	// second one exits at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\nbench: interrupted, stopping every process")
		cancel()
		go ps.stopAll()
		<-sigs
		os.Exit(130)
	}()

	dir, err := os.MkdirTemp("", "frontdesk-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	err = bench(ctx, c, ps, dir, t)
	ps.stopAll()
	switch {
	case ctx.Err() != nil:
		if c.keep {
			fmt.Fprintf(os.Stderr, "bench: interrupted; kept %s\n", dir)
		} else {
			os.RemoveAll(dir)
		}
		return 130
	case err != nil:
		fmt.Fprintf(os.Stderr, "bench: %v\nbench: logs are in %s\n", err, dir)
		return 1
	case c.keep:
		fmt.Fprintf(os.Stderr, "bench: kept %s\n", dir)
	default:
		os.RemoveAll(dir)
	}
	return 0
}

// tools are the external programs' paths.
type tools struct {
	wrk, nginx, haproxy, varnishd, dnsperf, dnsmasq string
	valgrind, callgrindControl                      string
	coredns                                         string // "" when there is none: the DNS rounds run without it
}

// bench builds frontdesk, runs the throughput rounds and the failover
// scenario as c asks, and prints the report.
func bench(ctx context.Context, c config, ps *procs, dir string, t tools) error {
	step("building ./cmd/frontdesk into %s", dir)
	bin, err := harness.BuildFrontdesk(dir)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	out := environment(c, t, bin) + "\n\n"
	if c.throughput {
		targets, err := startTargets(ctx, c, ps, dir, bin)
		if err != nil {
			return err
		}
		ours := ps.ids()
		ours[os.Getpid()] = true
		m := &measurer{ctx: ctx, c: c, wrk: t.wrk, meter: newCPUMeter(ours)}
		results, err := m.measure(targets)
		if err != nil {
			return err
		}
		var sums []summary
		for _, t := range targets {
			sums = append(sums, summarize(t.Name, results[t.Name]))
		}
		notes := append(m.notes, varianceNotes(sums, c.retryBusy)...)
		out += report(c, sums, notes) + "\n"
	}
	if c.cache {
		part, err := cacheBench(ctx, c, ps, dir, bin, t)
		if err != nil {
			return err
		}
		out += part + "\n"
	}
	if c.failover {
		results, err := runFailover(ctx, ps, dir, bin, c.workers, c.foRounds)
		if err != nil {
			return err
		}
		out += failoverReport(results, c.workers) + "\n"
	}
	if c.dnsMode {
		part, err := dnsBench(ctx, c, ps, dir, bin, t)
		if err != nil {
			return err
		}
		out += part + "\n"
	}
	if c.instructions {
		part, err := instructionsBench(ctx, c, ps, dir, bin, t)
		if err != nil {
			return err
		}
		out += part + "\n"
	}
	if c.instrDNS {
		part, err := dnsInstructionsBench(ctx, c, ps, dir, bin, t)
		if err != nil {
			return err
		}
		out += part
	}
	out = strings.TrimRight(out, "\n") + "\n"
	fmt.Print("\n" + out)
	if c.markdown != "" {
		if err := os.WriteFile(c.markdown, []byte(out), 0o644); err != nil {
			return err
		}
		step("wrote %s", c.markdown)
	}
	return ctx.Err()
}

// findCoreDNS returns flagValue ("" for "none"), else coredns from PATH,
// else the repository's bin/coredns (where make bench installs it), else "".
func findCoreDNS(flagValue string) string {
	if flagValue == "none" {
		return ""
	}
	if flagValue != "" {
		return flagValue
	}
	if p, err := exec.LookPath("coredns"); err == nil {
		return p
	}
	if root, err := harness.RepoRoot(); err == nil {
		if p := filepath.Join(root, "bin", "coredns"); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// findTool looks name up on PATH, falling back to Debian's location.
func findTool(name, fallback string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return fallback
}
