package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// The failover scenario: three backends behind each proxy in turn, steady
// load from a Go load generator, one backend killed with SIGKILL at 2 s and
// restarted on the same port at 5 s, load until 10 s. It counts the requests
// clients saw fail and how long the restarted backend waited for traffic.

// The scenario's timeline, from the start of the load.
const (
	failoverKillAt    = 2 * time.Second
	failoverRestartAt = 5 * time.Second
	failoverEnd       = 10 * time.Second
	failoverBackends  = 3
	failoverVictim    = 1 // index of the backend that is killed: the middle one
	// failoverTimeout bounds each request of the load generator; one that
	// takes longer counts as a transport error.
	failoverTimeout = 5 * time.Second
	// failoverGrace is how long after the SIGKILL a response from the killed
	// backend may still arrive: one it wrote just before dying can still be
	// on its way through the proxy.
	failoverGrace = 250 * time.Millisecond
)

// Proxy names in the failover table, in the order they are run.
const (
	// failoverFrontdesk is healthgate's recommended configuration (its
	// README): healthgate's defaults with HAProxy's check timing, and
	// lb_try_duration; no passive or observe option.
	failoverFrontdesk = "frontdesk healthgate"
	// failoverFrontdeskNoRetry leaves out lb_try_duration: healthgate's
	// defaults and nothing else (its default retries included).
	failoverFrontdeskNoRetry = "frontdesk healthgate, no lb_try_duration"
	// failoverFrontdeskObserveOff turns live observation off: the active
	// checker alone takes the dead backend out (issue 16's first row).
	failoverFrontdeskObserveOff = "frontdesk healthgate, observe off"
	// failoverFrontdeskPassive adds reverse_proxy's passive health: an
	// upstream whose dial fails is skipped for 1 s by this handler.
	failoverFrontdeskPassive = "frontdesk healthgate + fail_duration 1s"
	failoverNginx            = "nginx"
	failoverHAProxy          = "haproxy"
)

// failoverProxies is the order the proxies are run in.
var failoverProxies = []string{failoverFrontdesk, failoverFrontdeskNoRetry, failoverFrontdeskObserveOff,
	failoverFrontdeskPassive, failoverNginx, failoverHAProxy}

// frontdeskVariants are the Frontdesk rows: what each adds to or takes
// from the recommended configuration.
var frontdeskVariants = map[string]frontdeskVariant{
	failoverFrontdesk:           {retries: true},
	failoverFrontdeskNoRetry:    {},
	failoverFrontdeskObserveOff: {retries: true, observeOff: true},
	failoverFrontdeskPassive:    {retries: true, passive: true},
}

// frontdeskVariant is one Frontdesk configuration of the scenario.
type frontdeskVariant struct {
	retries    bool // lb_try_duration
	observeOff bool // observe off
	passive    bool // fail_duration 1s
}

// sample is one request of the load generator.
type sample struct {
	At      time.Duration // when the response was complete, since the load began
	Latency time.Duration // from sending the request to that moment
	Backend int           // index of the backend named in X-Backend; -1 if none
	Status  int           // HTTP status; 0 for a transport error
}

func (s sample) failed() bool { return s.Status < 200 || s.Status > 299 }

// failoverResult is one proxy's row of the failover table.
type failoverResult struct {
	Proxy      string
	Requests   int
	Failed     int
	Transport  int         // failures without a response (connection errors, timeouts)
	Statuses   map[int]int // failures with a response, by status
	PerBackend []int       // successful responses per backend
	Unknown    int         // successful responses without a known X-Backend
	// Recovery is the time from the restart until the first successful
	// response from the restarted backend; -1 when none came before the end.
	Recovery time.Duration
	// FirstFail and LastFail bound the failures; 0 without failures.
	FirstFail, LastFail time.Duration
	// During counts successful responses from the victim between the kill
	// (plus failoverGrace) and the restart: anything but 0 means the
	// scenario is broken.
	During int
	// Phases are the requests completed before the kill, between the
	// kill and the restart, and after the restart.
	Phases [3]phaseStats
	// P99 and Slowest are the latency of all requests.
	P99, Slowest time.Duration
	// Kill, Restart and Ready are when the victim was killed, restarted and
	// listening again, and Elapsed is the length of the whole load.
	Kill, Restart, Ready, Elapsed time.Duration
	// Load is the machine's load averages when the load began.
	Load string
	// Round is the run's round with -failover-rounds above 1, else 0.
	Round int
}

// label names the run in the report: the proxy, and its round if any.
func (r failoverResult) label() string {
	if r.Round == 0 {
		return r.Proxy
	}
	return fmt.Sprintf("%s, round %d", r.Proxy, r.Round)
}

// The phases of a failover run, indexes of failoverResult.Phases.
const (
	phaseBefore = iota // before the kill
	phaseDown          // from the kill to the restart
	phaseAfter         // from the restart to the end
)

// phaseNames name the phases in the report.
var phaseNames = [3]string{"before", "during", "after"}

// phaseStats are the requests that completed in one phase.
type phaseStats struct {
	Requests, Failed int
	Rate             float64 // completed requests per second
	P50, P99, Max    time.Duration
}

// phaseOf says in which phase a request completed at at.
func phaseOf(at, kill, restart time.Duration) int {
	switch {
	case at < kill:
		return phaseBefore
	case at < restart:
		return phaseDown
	}
	return phaseAfter
}

// fillPhases computes each phase's rate and latency percentiles from the
// latencies of its requests.
func (r *failoverResult) fillPhases(latencies [3][]float64) {
	spans := [3]time.Duration{r.Kill, r.Restart - r.Kill, r.Elapsed - r.Restart}
	for i := range r.Phases {
		p := &r.Phases[i]
		if spans[i] > 0 {
			p.Rate = float64(p.Requests) / spans[i].Seconds()
		}
		p.P50 = time.Duration(percentile(latencies[i], 50))
		p.P99 = time.Duration(percentile(latencies[i], 99))
		p.Max = time.Duration(percentile(latencies[i], 100))
	}
}

// aggregate builds a proxy's failover row from its samples.
func aggregate(proxy string, samples []sample, backends, victim int, kill, restart, ready, elapsed time.Duration) failoverResult {
	r := failoverResult{Proxy: proxy, Requests: len(samples), Statuses: map[int]int{}, PerBackend: make([]int, backends),
		Recovery: -1, Kill: kill, Restart: restart, Ready: ready, Elapsed: elapsed}
	latencies := make([]float64, 0, len(samples))
	var phased [3][]float64
	for _, s := range samples {
		latencies = append(latencies, float64(s.Latency))
		r.Slowest = max(r.Slowest, s.Latency)
		ph := phaseOf(s.At, kill, restart)
		r.Phases[ph].Requests++
		phased[ph] = append(phased[ph], float64(s.Latency))
		if s.failed() {
			r.Failed++
			r.Phases[ph].Failed++
			if s.Status == 0 {
				r.Transport++
			} else {
				r.Statuses[s.Status]++
			}
			if r.FirstFail == 0 || s.At < r.FirstFail {
				r.FirstFail = s.At
			}
			r.LastFail = max(r.LastFail, s.At)
			continue
		}
		if s.Backend < 0 || s.Backend >= backends {
			r.Unknown++
			continue
		}
		r.PerBackend[s.Backend]++
		if s.Backend != victim {
			continue
		}
		switch {
		case s.At > restart:
			if r.Recovery < 0 || s.At-restart < r.Recovery {
				r.Recovery = s.At - restart
			}
		case s.At > kill+failoverGrace:
			r.During++
		}
	}
	r.P99 = time.Duration(percentile(latencies, 99))
	r.fillPhases(phased)
	return r
}

// percentile returns the p-th percentile of xs (nearest rank), 0 for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// loadGenerator keeps workers requests in flight against one URL over
// keep-alive connections and records every one of them.
type loadGenerator struct {
	url     string
	workers int
	tags    map[string]int // X-Backend value -> backend index
}

// run sends requests until end has passed since start (or ctx is done) and
// returns them all. A request under way at end is finished and kept.
func (g *loadGenerator) run(ctx context.Context, start time.Time, end time.Duration) []sample {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        g.workers,
		MaxIdleConnsPerHost: g.workers,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: failoverTimeout}
	per := make([][]sample, g.workers)
	var wg sync.WaitGroup
	for w := range g.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]sample, 0, 16384)
			for time.Since(start) < end && ctx.Err() == nil {
				out = append(out, g.one(client, start))
			}
			per[w] = out
		}()
	}
	wg.Wait()
	var all []sample
	for _, p := range per {
		all = append(all, p...)
	}
	return all
}

// one sends one GET. A response counts as a success when it is a 2xx whose
// whole body arrived.
func (g *loadGenerator) one(client *http.Client, start time.Time) sample {
	sent := time.Now()
	resp, err := client.Get(g.url)
	if err != nil {
		return sample{At: time.Since(start), Latency: time.Since(sent), Backend: -1}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s := sample{At: time.Since(start), Latency: time.Since(sent), Backend: -1, Status: resp.StatusCode}
	if err != nil {
		s.Status = 0
	}
	if i, ok := g.tags[resp.Header.Get(backendHeader)]; ok {
		s.Backend = i
	}
	return s
}

// failoverBackend is one of the scenario's backends.
type failoverBackend struct {
	addr string
	tag  string // its port, sent in X-Backend
	proc *harness.Process
}

// failover runs the scenario against Frontdesk, nginx and HAProxy in turn.
type failover struct {
	ctx      context.Context
	ps       *procs
	dir      string
	bin      string // frontdesk
	workers  int
	backends []*failoverBackend
	restarts int
}

// runFailover starts the backends and runs the scenario through each proxy,
// rounds times, interleaved like the wrk rounds (the order reversed every
// other round).
func runFailover(ctx context.Context, ps *procs, dir, bin string, workers, rounds int) ([]failoverResult, error) {
	f := &failover{ctx: ctx, ps: ps, dir: dir, bin: bin, workers: workers}
	for i := range failoverBackends {
		addr, err := loopback()
		if err != nil {
			return nil, err
		}
		_, port, _ := strings.Cut(addr, ":")
		b := &failoverBackend{addr: addr, tag: port}
		if b.proc, err = startBackendOn(ps, dir, fmt.Sprintf("failover-backend-%d", i+1), addr, port); err != nil {
			return nil, fmt.Errorf("failover backend %d: %w", i+1, err)
		}
		f.backends = append(f.backends, b)
	}
	step("failover backends on %s, %s, %s", f.backends[0].addr, f.backends[1].addr, f.backends[2].addr)
	var results []failoverResult
	err := interleave(rounds, failoverProxies, func(round int, proxy string) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r, err := f.scenario(proxy)
		if err != nil {
			return fmt.Errorf("failover through %s: %w", proxy, err)
		}
		if rounds > 1 {
			r.Round = round
		}
		step("failover %-40s %d requests, %d failed, time to serve again after the restart: %s; %s",
			r.label(), r.Requests, r.Failed, formatRecovery(r.Recovery, r.Elapsed-r.Restart), verdictLine(r))
		results = append(results, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The report lists each proxy's runs together, in round order.
	slices.SortStableFunc(results, func(a, b failoverResult) int {
		return slices.Index(failoverProxies, a.Proxy) - slices.Index(failoverProxies, b.Proxy)
	})
	return results, nil
}

// addrs returns the backends' addresses.
func (f *failover) addrs() []string {
	var a []string
	for _, b := range f.backends {
		a = append(a, b.addr)
	}
	return a
}

// scenario starts proxy in front of the three backends, waits until each of
// them serves through it, runs the load with the kill and the restart, and
// stops the proxy.
func (f *failover) scenario(proxy string) (failoverResult, error) {
	addr, p, err := f.startProxy(proxy)
	if p != nil {
		defer p.Stop()
	}
	if err != nil {
		return failoverResult{}, err
	}
	step("failover: %s on %s", proxy, addr)
	g := &loadGenerator{url: "http://" + addr + "/", workers: f.workers, tags: map[string]int{}}
	for i, b := range f.backends {
		g.tags[b.tag] = i
	}
	if err := g.waitAll(20 * time.Second); err != nil {
		return failoverResult{}, fmt.Errorf("%s: %w", proxy, err)
	}

	victim := f.backends[failoverVictim]
	var kill, restart, ready time.Duration
	var restartErr error
	load := loadAverage()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !sleepUntil(f.ctx, start.Add(failoverKillAt)) {
			return
		}
		kill = time.Since(start)
		victim.proc.Kill() // SIGKILL, as a crash
		if !sleepUntil(f.ctx, start.Add(failoverRestartAt)) {
			return
		}
		restart = time.Since(start)
		f.restarts++
		np, err := harness.Start(f.dir, fmt.Sprintf("failover-backend-%d-restart-%d", failoverVictim+1, f.restarts), nil, f.dir,
			selfExe(), "-serve-backend", victim.addr, "-backend-tag", victim.tag)
		if err != nil {
			restartErr = err
			return
		}
		f.ps.add(np)
		victim.proc = np
		if err := np.WaitTCP(victim.addr, 4*time.Second); err != nil {
			restartErr = err
			return
		}
		ready = time.Since(start)
	}()
	samples := g.run(f.ctx, start, failoverEnd)
	elapsed := time.Since(start)
	<-done
	if f.ctx.Err() != nil {
		return failoverResult{}, f.ctx.Err()
	}
	if restartErr != nil {
		return failoverResult{}, fmt.Errorf("restarting backend %s: %w", victim.addr, restartErr)
	}
	r := aggregate(proxy, samples, len(f.backends), failoverVictim, kill, restart, ready, elapsed)
	r.Load = load
	return r, nil
}

// waitAll sends requests until every backend has answered one through the
// proxy (healthgate gates each upstream until it has passed rise checks).
func (g *loadGenerator) waitAll(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	seen := map[int]bool{}
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		s := g.one(client, time.Now())
		switch {
		case s.failed():
			last = "status " + strconv.Itoa(s.Status)
			time.Sleep(50 * time.Millisecond)
		case s.Backend >= 0:
			seen[s.Backend] = true
			if len(seen) == len(g.tags) {
				client.CloseIdleConnections()
				return nil
			}
		default:
			last = "a response without " + backendHeader
		}
	}
	return fmt.Errorf("%s: only %d of %d backends answered within %s (last: %s)", g.url, len(seen), len(g.tags), timeout, last)
}

// startProxy starts one of the proxies in front of the backends.
func (f *failover) startProxy(proxy string) (string, *harness.Process, error) {
	if v, ok := frontdeskVariants[proxy]; ok {
		name := "failover-" + harness.FileName(proxy)
		fd, addr, err := startFrontdeskSite(f.ps, f.bin, f.dir, name, proxySite(false, frontdeskFailoverProxy(f.addrs(), v)), nil)
		if fd == nil {
			return "", nil, err
		}
		return addr, fd.Process, err
	}
	addr, err := loopback()
	if err != nil {
		return "", nil, err
	}
	var p *harness.Process
	switch proxy {
	case failoverNginx:
		var n *harness.Nginx
		if n, err = harness.StartNginx(filepath.Join(f.dir, "failover-nginx"), addr, nginxFailoverConf(f.addrs(), addr)); n != nil {
			p = n.Process
		}
	case failoverHAProxy:
		var h *harness.HAProxy
		if h, err = harness.StartHAProxy(filepath.Join(f.dir, "failover-haproxy"), addr, haproxyFailoverConf(f.addrs(), addr)); h != nil {
			p = h.Process
		}
	default:
		return "", nil, fmt.Errorf("unknown proxy %q", proxy)
	}
	if p == nil {
		return "", nil, err
	}
	f.ps.add(p)
	return addr, p, err
}

// Healthgate's check timing in the scenario, HAProxy's check inter 1s
// fall 3 rise 2; the recovery target is rise × interval + recoverySlack.
const (
	failoverInterval = time.Second
	failoverFall     = 3
	failoverRise     = 2
)

// frontdeskFailoverProxy is reverse_proxy's block for the scenario: HAProxy's
// check inter 1s fall 3 rise 2 in healthgate (its default live observation
// included unless v turns it off), round robin like the other two, retries
// on the other upstreams for up to 5 s with v.retries (the recommended
// configuration), and reverse_proxy's passive health (fail_duration 1s)
// with v.passive.
func frontdeskFailoverProxy(backends []string, v frontdeskVariant) string {
	gate, extra := "", ""
	if v.observeOff {
		gate = "\t\t\tobserve off\n"
	}
	if v.retries {
		extra += "\t\tlb_try_duration 5s\n"
	}
	if v.passive {
		extra += "\t\tfail_duration 1s\n"
	}
	return fmt.Sprintf(` {
		dynamic healthgate failover {
			to %s
			interval %s
			fall %d
			rise %d
%s		}
		lb_policy round_robin
%s%s	}`, strings.Join(backends, " "), failoverInterval, failoverFall, failoverRise, gate, extra, transportBlock(64))
}

// nginxFailoverConf is the seed's passive health (max_fails=3
// fail_timeout=30s) on each server, nginx's default retry on error and
// timeout, and the throughput benchmark's upstream keepalive.
func nginxFailoverConf(backends []string, listen string) string {
	var servers []string
	for _, b := range backends {
		servers = append(servers, b+" max_fails=3 fail_timeout=30s")
	}
	return nginxProxy{upstream: "failover_backend", servers: servers, listen: listen,
		route: []string{"proxy_next_upstream error timeout;"}, after: nginxSeedHeaders}.String()
}

// haproxyFailoverConf is HAProxy with active checks (check inter 1s fall 3
// rise 2 against /healthz), round robin, and retries redispatched to
// another server.
func haproxyFailoverConf(backends []string, listen string) string {
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "    server b%d %s check inter 1s fall 3 rise 2\n", i+1, b)
	}
	return fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend bench
    bind %s
    default_backend failover_backend

backend failover_backend
    balance roundrobin
    option httpchk GET /healthz
    option redispatch
    retries 3
%s`, listen, servers.String())
}

// sleepUntil waits until t and reports whether ctx is still alive then.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// selfExe is this program, re-executed as a backend.
func selfExe() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}

func writeFile(path, text string) error {
	return os.WriteFile(path, []byte(text), 0o644)
}
