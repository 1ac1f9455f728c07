package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// The cache HIT benchmark: wrk against Frontdesk's proxy_cache (memory
// storage), nginx's proxy_cache and Varnish, every one warmed so that it
// answers from its cache, and against Caddy's own respond of the same
// bodies in the same frontdesk binary: the ceiling for a handler inside
// Caddy.

// Server names, in the order they are measured for each object.
const (
	cacheRespond   = "caddy respond"
	cacheFrontdesk = "frontdesk proxy_cache"
	cacheVarnish   = "varnish"
	cacheNginx     = "nginx proxy_cache"
	// The fleet rows: proxy_cache on a redis-server, with and without the
	// local tier (measured when redis-server is installed).
	cacheRedisLocal  = "frontdesk redis + local tier"
	cacheRedisShared = "frontdesk redis, no local tier"
)

// cacheTargetLocalVsMemory is the target of a HIT from the local tier over
// Redis against storage memory.
const cacheTargetLocalVsMemory = 0.95

// The ratios the cache report leads with: Frontdesk against the ceiling and
// against Varnish.
const (
	cacheTargetVsRespond = 0.90
	cacheTargetVsVarnish = 1.00
)

// The backend's cacheable responses.
const (
	cacheCountPath   = "/cache/count" // the backend's count of requests for cacheObjects
	cacheContentType = "text/plain; charset=utf-8"
	cacheControl     = "public, max-age=3600"
	// cacheStorage is the memory every cache may use: Frontdesk's max_size,
	// nginx's max_size (on disk, in the page cache) and Varnish's malloc.
	cacheStorage = "256m"
)

// cacheObject is one cached object the benchmark requests.
type cacheObject struct {
	Name string
	Path string
	Body []byte
}

// cacheObjects are the objects measured: 1 KiB and 100 KiB.
var cacheObjects = []cacheObject{
	{Name: "1 KiB", Path: "/cache/1k", Body: makeObject(1024)},
	{Name: "100 KiB", Path: "/cache/100k", Body: makeObject(100 * 1024)},
}

// makeObject returns n bytes of letters and digits, which a Caddyfile can
// hold in a quoted token as they are.
func makeObject(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i/len(alphabet))%len(alphabet)]
	}
	return b
}

func findCacheObject(path string) *cacheObject {
	for i := range cacheObjects {
		if cacheObjects[i].Path == path {
			return &cacheObjects[i]
		}
	}
	return nil
}

// frontdeskCacheSite is the site of the Frontdesk cache target.
const frontdeskCacheSite = `	proxy_cache {
		storage memory {
			zone bench
			max_size ` + cacheStorage + `
		}
	}
	reverse_proxy {$BENCH_BACKEND}%s
`

// frontdeskRedisSite is the site of a fleet row: proxy_cache on Redis at
// $BENCH_REDIS, with a local tier as big as the memory storage when local
// is set.
func frontdeskRedisSite(local bool, transport string) string {
	tier := ""
	if local {
		tier = "\n\t\t\tlocal " + cacheStorage
	}
	return "\tproxy_cache {\n\t\tstorage redis {$BENCH_REDIS} {" + tier + "\n\t\t}\n\t}\n\treverse_proxy {$BENCH_BACKEND}" + transport + "\n"
}

// respondSite returns the site of the ceiling: the same headers the backend
// sends and each object's body, from respond.
func respondSite() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\theader Content-Type %q\n\theader Cache-Control %q\n", cacheContentType, cacheControl)
	for _, o := range cacheObjects {
		fmt.Fprintf(&b, "\trespond %s \"%s\" 200\n", o.Path, o.Body)
	}
	return b.String()
}

// nginxCacheConf is nginx's http{} content: proxy_cache_path in prefix,
// the backend with keepalive 64, and the cache with proxy_cache_valid 200
// 10m; X-Cache-Status tells hits.
func nginxCacheConf(prefix, backend, listen string) string {
	return nginxProxy{
		upstream: "bench_backend", servers: []string{backend}, listen: listen,
		before: []string{"proxy_cache_path " + filepath.Join(prefix, "cache") + " levels=1:2 keys_zone=bench:10m max_size=" + cacheStorage + " inactive=60m use_temp_path=off;"},
		after:  []string{"proxy_cache bench;", "proxy_cache_valid 200 10m;", "add_header X-Cache-Status $upstream_cache_status;"},
	}.String()
}

// varnishVCL is Varnish's default behaviour with the backend and an
// X-Cache-Status header that tells hits.
const varnishVCL = `vcl 4.1;

backend default {
    .host = "127.0.0.1";
    .port = "%s";
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache-Status = "HIT";
    } else {
        set resp.http.X-Cache-Status = "MISS";
    }
}
`

// cacheServer is one server under test.
type cacheServer struct {
	Name  string
	Addr  string
	PGrp  int
	Cache bool // answers from a cache (not respond): must say HIT
	Age   bool // a hit must carry Age (nginx sends none)
	// Dashboard is the admin API of a Frontdesk whose dashboard is
	// watched through every run (dashboard.go); "" for none.
	Dashboard string
}

// cacheBench starts the backend and the servers, warms and checks the
// caches, runs wrk round after round and returns the cache part of the
// report.
func cacheBench(ctx context.Context, c config, ps *procs, dir, bin string, t tools) (string, error) {
	dir = filepath.Join(dir, "cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	backend, err := startBackend(ps, dir)
	if err != nil {
		return "", fmt.Errorf("cache backend: %w", err)
	}
	step("cache backend on %s", backend)
	var servers []cacheServer
	frontdesks := []struct {
		name, file, directives string
		env                    []string
		cache                  bool // proxy_cache: says HIT, with Age
		watched                bool // its dashboard watched through every run
	}{
		{cacheRespond, "frontdesk-respond", respondSite(), nil, false, false},
		{cacheFrontdesk, "frontdesk-proxy_cache", fmt.Sprintf(frontdeskCacheSite, proxyTransport(c.idle)), []string{"BENCH_BACKEND=" + backend}, true, false},
	}
	if c.dashboard { // the twin, measured right after proxy_cache
		twin := frontdesks[1]
		twin.name, twin.file, twin.watched = watchedName(cacheFrontdesk), "frontdesk-proxy_cache-dashboard", true
		frontdesks = append(frontdesks, twin)
	}
	for _, f := range frontdesks {
		fd, addr, err := startFrontdeskSite(ps, bin, dir, f.file, f.directives, f.env)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.name, err)
		}
		s := cacheServer{Name: f.name, Addr: addr, PGrp: fd.PID(), Cache: f.cache, Age: f.cache}
		if f.watched {
			s.Dashboard = fd.Admin
		}
		servers = append(servers, s)
	}
	redisServers, redisURL, redisNote, err := startRedisCacheServers(ps, bin, dir, backend, proxyTransport(c.idle))
	if err != nil {
		return "", err
	}
	servers = append(servers, redisServers...)

	addr, err := loopback()
	if err != nil {
		return "", err
	}
	_, backendPort, _ := strings.Cut(backend, ":")
	v, err := harness.StartVarnish(filepath.Join(dir, "varnish"), addr, fmt.Sprintf(varnishVCL, backendPort), cacheStorage)
	if v != nil {
		ps.add(v.Process)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", cacheVarnish, err)
	}
	servers = append(servers, cacheServer{Name: cacheVarnish, Addr: addr, PGrp: v.PID(), Cache: true, Age: true})

	addr, err = loopback()
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(dir, "nginx")
	if err := startNginxConf(ps, prefix, addr, nginxCacheConf(prefix, backend, addr)); err != nil {
		return "", fmt.Errorf("%s: %w", cacheNginx, err)
	}
	ng := ps.last()
	servers = append(servers, cacheServer{Name: cacheNginx, Addr: addr, PGrp: ng.PID(), Cache: true})
	for _, s := range servers {
		step("%s on %s", s.Name, s.Addr)
	}

	// Warm every cache and check that it now answers HIT with the object.
	for _, s := range servers {
		for _, o := range cacheObjects {
			if err := warmAndCheck(s, o); err != nil {
				return "", err
			}
		}
	}

	ours := ps.ids()
	ours[os.Getpid()] = true
	m := &cacheMeasurer{measurer: measurer{ctx: ctx, c: c, wrk: t.wrk, meter: newCPUMeter(ours)}, backend: backend}
	results, err := m.measure(servers)
	if err != nil {
		return "", err
	}
	var sums []cacheSummary
	for _, o := range cacheObjects {
		for _, s := range servers {
			sums = append(sums, summarizeCache(o.Name, s.Name, results[cacheKey{o.Name, s.Name}]))
		}
	}
	notes := append(m.notes, cacheVarianceNotes(sums, c.retryBusy)...)
	if redisNote != "" {
		notes = append(notes, redisNote)
	}
	report := cacheReport(c, sums, notes)
	if redisURL != "" {
		step("purge propagation across three instances")
		purge, err := fleetPurgeBench(ps, bin, dir, backend, redisURL, fleetPurgeRounds)
		if err != nil {
			return "", fmt.Errorf("purge propagation: %w", err)
		}
		report += purge
	}
	return report, nil
}

// fleetPurgeRounds is how many entries the purge propagation measurement
// purges (two samples each).
const fleetPurgeRounds = 200

// startRedisCacheServers runs a redis-server and the two fleet rows on it
// (with and without the local tier). Without redis-server it returns a
// note saying the rows were left out.
func startRedisCacheServers(ps *procs, bin, dir, backend, transport string) (servers []cacheServer, redisURL, note string, err error) {
	r, missing, err := startBenchRedis(ps, dir)
	if missing != "" || err != nil {
		return nil, "", missing, err
	}
	for _, f := range []struct {
		name, file string
		local      bool
	}{{cacheRedisLocal, "frontdesk-redis-local", true}, {cacheRedisShared, "frontdesk-redis", false}} {
		env := []string{"BENCH_BACKEND=" + backend, "BENCH_REDIS=" + r.URL()}
		fd, addr, err := startFrontdeskSite(ps, bin, dir, f.file, frontdeskRedisSite(f.local, transport), env)
		if err != nil {
			return nil, "", "", fmt.Errorf("%s: %w", f.name, err)
		}
		servers = append(servers, cacheServer{Name: f.name, Addr: addr, PGrp: fd.PID(), Cache: true, Age: true})
	}
	return servers, r.URL(), "", nil
}

// startBenchRedis runs the redis-server of the fleet rows in dir/redis.
// Without redis-server it returns the note that says they were not
// measured.
func startBenchRedis(ps *procs, dir string) (r *harness.Redis, missing string, err error) {
	if msg := harness.MissingPeer("redis-server"); msg != "" {
		return nil, "the fleet rows and the purge propagation were not measured: " + msg, nil
	}
	r, err = harness.StartRedis(filepath.Join(dir, "redis"))
	if r != nil {
		ps.add(r.Process)
	}
	if err != nil {
		return nil, "", fmt.Errorf("redis-server: %w", err)
	}
	step("redis-server on %s", r.Addr)
	return r, "", nil
}

// proxyTransport is reverse_proxy's block for keepalive_idle_conns_per_host
// idle, or nothing for Caddy's default.
func proxyTransport(idle int) string {
	if idle <= 0 {
		return ""
	}
	return " {\n" + transportBlock(idle) + "\t}"
}

// warmAndCheck requests o from s until it is a HIT (at most three times)
// and checks the body and, for a cache, X-Cache-Status: HIT (and Age where
// the server sends it on hits).
func warmAndCheck(s cacheServer, o cacheObject) error {
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	for range 3 {
		resp, err := client.Get("http://" + s.Addr + o.Path)
		if err != nil {
			return fmt.Errorf("%s %s: %v", s.Name, o.Path, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return fmt.Errorf("%s %s: reading body: %v", s.Name, o.Path, err)
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("%s %s: status %s, want 200", s.Name, o.Path, resp.Status)
		case string(b) != string(o.Body):
			return fmt.Errorf("%s %s: body is %d bytes and not the %d-byte object", s.Name, o.Path, len(b), len(o.Body))
		}
		last = resp.Header.Get("X-Cache-Status")
		if !s.Cache {
			return nil
		}
		if last == "HIT" {
			if s.Age && resp.Header.Get("Age") == "" {
				return fmt.Errorf("%s %s: a HIT without Age", s.Name, o.Path)
			}
			return nil
		}
		time.Sleep(100 * time.Millisecond) // nginx stores once the response is complete
	}
	return fmt.Errorf("%s %s: X-Cache-Status %q after three requests, want HIT", s.Name, o.Path, last)
}

// backendCount asks the backend how many cacheable requests it has served.
func backendCount(backend string) (int64, error) {
	resp, err := http.Get("http://" + backend + cacheCountPath)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

type cacheKey struct{ object, server string }

// cacheRun is one wrk run against one server for one object.
type cacheRun struct {
	wrkResult
	CPUPerReq float64 // µs of the server's CPU per request
	PeakRSS   int64   // KiB, the server's peak during the run
	Backend   int64   // requests that reached the backend during the run
}

// cacheSummary is one server's medians over the rounds for one object.
type cacheSummary struct {
	Object, Server string
	RPS, CPUPerReq float64
	P99            time.Duration
	PeakRSS        int64 // the largest of the runs
	Rounds         []cacheRun
}

func summarizeCache(object, server string, runs []cacheRun) cacheSummary {
	s := cacheSummary{Object: object, Server: server, Rounds: runs}
	var rps, p99, cpu []float64
	for _, r := range runs {
		rps = append(rps, r.RequestsPerSec)
		p99 = append(p99, float64(r.P99))
		cpu = append(cpu, r.CPUPerReq)
		s.PeakRSS = max(s.PeakRSS, r.PeakRSS)
	}
	s.RPS, s.P99, s.CPUPerReq = median(rps), time.Duration(median(p99)), median(cpu)
	return s
}

// cacheMeasurer runs wrk against the cache servers.
type cacheMeasurer struct {
	measurer
	backend string
}

func (m *cacheMeasurer) measure(servers []cacheServer) (map[cacheKey][]cacheRun, error) {
	warm := m.c.wrk
	warm.Duration = m.c.warmup
	return measureRounds(&m.measurer, cross(cacheObjects, servers),
		func(p pair[cacheObject, cacheServer]) cacheKey { return cacheKey{p.a.Name, p.b.Name} },
		func(p pair[cacheObject, cacheServer]) error {
			step("cache warm-up %s %s (%s)", p.b.Name, p.a.Name, wrkDuration(m.c.warmup))
			_, _, err := watching(p.b.Dashboard, func() (wrkResult, time.Duration, error) {
				return runWrk(m.ctx, m.wrk, warm, "http://"+p.b.Addr+p.a.Path)
			})()
			return err
		},
		func(r int, p pair[cacheObject, cacheServer]) (cacheRun, error) { return m.once(r, p.a, p.b) })
}

// once measures s serving o in round r, again if other processes disturbed
// the run.
func (m *cacheMeasurer) once(r int, o cacheObject, s cacheServer) (cacheRun, error) {
	srv := runServer{pgrp: s.PGrp, count: func() (int64, error) { return backendCount(m.backend) }}
	run, err := measureRun(&m.measurer, srv, watching(s.Dashboard, func() (wrkResult, time.Duration, error) {
		return runWrk(m.ctx, m.wrk, m.c.wrk, "http://"+s.Addr+o.Path)
	}), func(res wrkResult, u runUsage) (cacheRun, error) {
		res.OtherCPU, res.Retries = u.OtherCPU, u.Retries
		run := cacheRun{wrkResult: res, CPUPerReq: u.perUnit(res.Requests), PeakRSS: u.PeakRSS, Backend: u.Count}
		step("round %d/%d %-8s %-22s %10s req/s  p99 %-9s %6.2f µs CPU/req  peak %s  other CPU %.2f", r, m.c.rounds, o.Name, s.Name,
			formatThousands(res.RequestsPerSec), formatLatency(res.P99), run.CPUPerReq, formatKiB(run.PeakRSS), res.OtherCPU)
		if res.Requests == 0 {
			return run, fmt.Errorf("round %d: %s answered no request for %s", r, s.Name, o.Name)
		}
		return run, nil
	})
	if err != nil {
		return run, err
	}
	if run.Non2xx > 0 || run.SocketErrors > 0 {
		m.note("round %d: %s, %s had %d non-2xx responses and %d socket errors out of %d requests",
			r, o.Name, s.Name, run.Non2xx, run.SocketErrors, run.Requests)
	}
	if run.Backend > 0 {
		m.note("round %d: %s, %s: %d requests reached the backend during the run (not all were hits)",
			r, o.Name, s.Name, run.Backend)
	}
	return run, nil
}

func (s cacheSummary) names() (string, string) { return s.Object, s.Server }

// cacheRatio is the median per-round ratio of s to server for the same
// object, formatted, and the per-round ratios.
func cacheRatio(sums []cacheSummary, s *cacheSummary, server string) (string, []float64) {
	den := findPair(sums, s.Object, server)
	if den == nil {
		return "n/a", nil
	}
	rs := perRound(s.Rounds, den.Rounds)
	if len(rs) == 0 {
		return "n/a", nil
	}
	return fmt.Sprintf("%.3f", median(rs)), rs
}

// cacheReport renders the cache part of the Markdown report.
func cacheReport(c config, sums []cacheSummary, notes []string) string {
	var b strings.Builder
	b.WriteString("### Cache HIT: 1 KiB and 100 KiB objects\n\n")
	fmt.Fprintf(&b, "wrk -t%d -c%d -d%s --latency, %d rounds interleaved (order reversed every other round), medians. "+
		"The backend sends `Cache-Control: %s`; every cache was warmed and answered `X-Cache-Status: HIT` before the first run, "+
		"and the backend's request count is checked around every run. "+
		"`%s`: Frontdesk `proxy_cache` with `storage memory` (max_size %s) + `reverse_proxy`; "+
		"`%s`: `proxy_cache_path` (max_size %s, in the temp dir) + `proxy_cache_valid 200 10m`, worker_processes %s; "+
		"`%s`: varnishd -s malloc,%s, default VCL; "+
		"`%s`: the same frontdesk binary answering the same bodies and headers with `respond` (the ceiling inside Caddy; "+
		"respond runs placeholder replacement over its body on every request (StaticResponse calls ReplaceKnown), which weighs on the 100 KiB body). "+
		"CPU is the server's user+system time (every process of its group) over requests; peak RSS is the largest per-run VmHWM (summed over the group).\n\n",
		c.wrk.Threads, c.wrk.Connections, wrkDuration(c.wrk.Duration), c.rounds, cacheControl,
		cacheFrontdesk, cacheStorage, cacheNginx, cacheStorage, nginxWorkers, cacheVarnish, cacheStorage, cacheRespond)
	b.WriteString("| object | server | req/s (median) | p99 (median) | CPU µs/req | vs respond | vs Varnish | peak RSS |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|\n")
	for i := range sums {
		s := &sums[i]
		vsRespond, _ := cacheRatio(sums, s, cacheRespond)
		vsVarnish, _ := cacheRatio(sums, s, cacheVarnish)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f | %s | %s | %s |\n", s.Object, s.Server, formatThousands(s.RPS),
			formatLatency(s.P99), s.CPUPerReq, vsRespond, vsVarnish, formatKiB(s.PeakRSS))
	}
	b.WriteString("\n")
	var rows []ratioRow
	for _, o := range cacheObjects {
		fd := findPair(sums, o.Name, cacheFrontdesk)
		if fd == nil {
			continue
		}
		for _, k := range []struct {
			den    string
			target float64
		}{{cacheRespond, cacheTargetVsRespond}, {cacheVarnish, cacheTargetVsVarnish}} {
			_, rs := cacheRatio(sums, fd, k.den)
			if len(rs) == 0 {
				continue
			}
			label := fmt.Sprintf("%s: %s / %s", o.Name, cacheFrontdesk, k.den)
			rows = append(rows, ratioRow{label, rs})
			writeVerdict(&b, label, rs, k.target)
		}
	}

	writeFleetRatios(&b, sums, &rows)
	var objects []string
	for _, o := range cacheObjects {
		objects = append(objects, o.Name)
	}
	rows = append(rows, dashboardRatios(&b, sums, objects, cacheFrontdesk, func(s *cacheSummary) []cacheRun { return s.Rounds })...)

	var table []roundsRow
	for _, s := range sums {
		row := roundsRow{label: s.Object + ", " + s.Server}
		for _, r := range s.Rounds {
			row.cells = append(row.cells, wrkCell(r.wrkResult))
		}
		table = append(table, row)
	}
	writeRoundsTable(&b, "req/s, p99", "object, server", "", c.rounds, table, rows)
	writeNotes(&b, notes)
	return b.String()
}

// cacheVarianceNotes flags disturbed runs and servers whose rounds disagree.
func cacheVarianceNotes(sums []cacheSummary, retryBusy float64) []string {
	var plain []summary
	for _, s := range sums {
		plain = append(plain, summarizeRuns(s.Object+", "+s.Server, s.Rounds))
	}
	return varianceNotes(plain, retryBusy)
}

func (r cacheRun) figures() wrkResult { return r.wrkResult }

// writeFleetRatios writes the fleet rows' ratios against storage memory:
// the local tier with its target, and Redis without it (reported: the
// price the local tier removes).
func writeFleetRatios(b *strings.Builder, sums []cacheSummary, rows *[]ratioRow) {
	for _, o := range cacheObjects {
		for _, k := range []struct {
			server string
			target float64 // 0: reported only
		}{{cacheRedisLocal, cacheTargetLocalVsMemory}, {cacheRedisShared, 0}} {
			s := findPair(sums, o.Name, k.server)
			if s == nil {
				continue
			}
			_, rs := cacheRatio(sums, s, cacheFrontdesk)
			if len(rs) == 0 {
				continue
			}
			label := fmt.Sprintf("%s: %s / %s", o.Name, k.server, cacheFrontdesk)
			*rows = append(*rows, ratioRow{label, rs})
			if k.target == 0 {
				fmt.Fprintf(b, "**%s = %.3f**, median of the per-round ratios (reported: a Redis round trip per hit)\n\n", label, median(rs))
				continue
			}
			writeVerdict(b, label, rs, k.target)
		}
	}
}
