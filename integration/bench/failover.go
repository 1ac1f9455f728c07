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
	failoverFrontdesk = "frontdesk healthgate"
	// failoverFrontdeskPassive adds reverse_proxy's passive health, as in
	// healthgate's README: an upstream whose dial fails is skipped for 1 s.
	failoverFrontdeskPassive = "frontdesk healthgate + fail_duration 1s"
	failoverNginx            = "nginx"
	failoverHAProxy          = "haproxy"
)

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
	// Phases counts the requests completed before the kill, between the
	// kill and the restart, and after the restart.
	Phases [3]int
	// P99 and Slowest are the latency of all requests.
	P99, Slowest time.Duration
	// Kill, Restart and Ready are when the victim was killed, restarted and
	// listening again, and Elapsed is the length of the whole load.
	Kill, Restart, Ready, Elapsed time.Duration
}

// phaseRates returns the req/s before the kill, while the victim was down
// and after the restart.
func (r failoverResult) phaseRates() [3]float64 {
	spans := [3]time.Duration{r.Kill, r.Restart - r.Kill, r.Elapsed - r.Restart}
	var rates [3]float64
	for i, d := range spans {
		if d > 0 {
			rates[i] = float64(r.Phases[i]) / d.Seconds()
		}
	}
	return rates
}

// aggregate builds a proxy's failover row from its samples.
func aggregate(proxy string, samples []sample, backends, victim int, kill, restart, ready, elapsed time.Duration) failoverResult {
	r := failoverResult{Proxy: proxy, Requests: len(samples), Statuses: map[int]int{}, PerBackend: make([]int, backends),
		Recovery: -1, Kill: kill, Restart: restart, Ready: ready, Elapsed: elapsed}
	latencies := make([]float64, 0, len(samples))
	for _, s := range samples {
		latencies = append(latencies, float64(s.Latency))
		r.Slowest = max(r.Slowest, s.Latency)
		switch {
		case s.At < kill:
			r.Phases[0]++
		case s.At < restart:
			r.Phases[1]++
		default:
			r.Phases[2]++
		}
		if s.failed() {
			r.Failed++
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

// runFailover starts the backends and runs the scenario through each proxy.
func runFailover(ctx context.Context, ps *procs, dir, bin string, workers int) ([]failoverResult, error) {
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
	for _, proxy := range []string{failoverFrontdesk, failoverFrontdeskPassive, failoverNginx, failoverHAProxy} {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r, err := f.scenario(proxy)
		if err != nil {
			return nil, fmt.Errorf("failover through %s: %w", proxy, err)
		}
		step("failover %-22s %d requests, %d failed, time to serve again after the restart: %s",
			proxy, r.Requests, r.Failed, formatRecovery(r.Recovery, r.Elapsed-r.Restart))
		results = append(results, r)
	}
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
	return aggregate(proxy, samples, len(f.backends), failoverVictim, kill, restart, ready, elapsed), nil
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
	if proxy == failoverFrontdesk || proxy == failoverFrontdeskPassive {
		passive := proxy == failoverFrontdeskPassive
		name := "failover-frontdesk"
		if passive {
			name += "-passive"
		}
		fd, addr, err := startFrontdeskSite(f.ps, f.bin, f.dir, name, proxySite(false, frontdeskFailoverProxy(f.addrs(), passive)), nil)
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

// frontdeskFailoverProxy is reverse_proxy's block for the scenario: HAProxy's
// check inter 1s fall 3 rise 2 in healthgate (its default live observation
// included), round robin like the other two, and retries on the other
// upstreams for up to 2 s; with passive, also
// reverse_proxy's passive health (fail_duration 1s).
func frontdeskFailoverProxy(backends []string, passive bool) string {
	extra := ""
	if passive {
		extra = "\t\tfail_duration 1s\n"
	}
	return fmt.Sprintf(` {
		dynamic healthgate failover {
			to %s
			interval 1s
			fall 3
			rise 2
		}
		lb_policy round_robin
		lb_try_duration 2s
%s%s	}`, strings.Join(backends, " "), extra, transportBlock(64))
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
	b.WriteString("| proxy | requests | failed | time to serve again after restart |\n")
	b.WriteString("|---|---:|---:|---:|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Proxy, formatThousands(float64(r.Requests)), formatFailed(r),
			formatRecovery(r.Recovery, r.Elapsed-r.Restart))
	}
	b.WriteString("\nSettings:\n\n")
	fmt.Fprintf(&b, "- %s: `dynamic healthgate { interval 1s fall 3 rise 2 }` (checks GET /healthz), `lb_policy round_robin`, `lb_try_duration 2s` (no `lb_try_interval`: healthgate makes the retry wait 5 ms), keepalive_idle_conns_per_host 64; no passive health options: live traffic is observed by default (`observe connect reset limit 1`).\n", failoverFrontdesk)
	fmt.Fprintf(&b, "- %s: the same plus reverse_proxy's passive health `fail_duration 1s` (as in healthgate's README): an upstream whose request failed is skipped for 1 s.\n", failoverFrontdeskPassive)
	fmt.Fprintf(&b, "- %s: `server ... max_fails=3 fail_timeout=30s` (passive only, as in the seed), round robin, `proxy_next_upstream error timeout` (the default), upstream keepalive 64, worker_processes %s.\n", failoverNginx, nginxWorkers)
	fmt.Fprintf(&b, "- %s: `balance roundrobin`, `option httpchk GET /healthz`, `server ... check inter 1s fall 3 rise 2`, `option redispatch`, `retries 3`, nbthread 1.\n", failoverHAProxy)
	b.WriteString("\nDetails (times since the load began):\n\n")
	for _, r := range results {
		var per []string
		for i, n := range r.PerBackend {
			per = append(per, fmt.Sprintf("%d: %s", i+1, formatThousands(float64(n))))
		}
		rates := r.phaseRates()
		fmt.Fprintf(&b, "- %s: %s req/s (%s before the kill, %s while down, %s after the restart); latency p99 %s, slowest %s; successful responses per backend %s",
			r.Proxy, formatThousands(float64(r.Requests)/r.Elapsed.Seconds()), formatThousands(rates[0]), formatThousands(rates[1]), formatThousands(rates[2]),
			formatLatency(r.P99), formatLatency(r.Slowest), strings.Join(per, ", "))
		if r.Unknown > 0 {
			fmt.Fprintf(&b, ", %d without %s", r.Unknown, backendHeader)
		}
		fmt.Fprintf(&b, "; killed at %.2f s, restarted at %.2f s, listening at %.2f s", r.Kill.Seconds(), r.Restart.Seconds(), r.Ready.Seconds())
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
