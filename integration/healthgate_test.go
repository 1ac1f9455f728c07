package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// hgBackend is a Go test upstream: /healthz answers 200 {"status":"healthy"}
// or 503 as switched, every other path answers its name and is counted.
type hgBackend struct {
	testBackend
	name    string
	healthy atomic.Bool
	served  atomic.Int64 // non-health requests
	checks  atomic.Int64 // /healthz requests
	delay   atomic.Int64 // ns added to non-health requests
	slowHC  atomic.Int64 // ns added to /healthz answers
}

func newHGBackend(t *testing.T, name string, healthy bool) *hgBackend {
	t.Helper()
	b := &hgBackend{name: name}
	b.healthy.Store(healthy)
	b.testBackend = startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			b.checks.Add(1)
			if d := b.slowHC.Load(); d > 0 {
				time.Sleep(time.Duration(d))
			}
			if !b.healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"status":"unhealthy"}`))
				return
			}
			_, _ = w.Write([]byte(`{"status":"healthy"}`))
			return
		}
		b.served.Add(1)
		if d := b.delay.Load(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		_, _ = w.Write([]byte(b.name))
	}))
	return b
}

// hgFrontdesk is frontdesk running a generated Caddyfile: hgGlobal plus one
// site on a free loopback port whose body is the test's site text.
type hgFrontdesk struct {
	fd     *harness.Frontdesk
	addr   string
	logDir string
	file   string
}

var hgGlobal = globalBlock("auto_https off", `log events {
	output file {$FRONTDESK_LOG_DIR}/events.log
	include events
	level DEBUG
}`)

func startHG(t *testing.T, site string) *hgFrontdesk {
	t.Helper()
	h := &hgFrontdesk{logDir: t.TempDir()}
	addr, env := httpSite(t, h.logDir)
	h.addr = addr
	h.file = filepath.Join(h.logDir, "healthgate.Caddyfile")
	h.write(t, site)
	h.fd = runFrontdesk(t, h.logDir, "frontdesk-healthgate", h.file, env, h.addr)
	return h
}

func (h *hgFrontdesk) write(t *testing.T, site string) {
	t.Helper()
	writeFile(t, h.file, hgGlobal+"http://127.0.0.1:{$FRONTDESK_HTTP_PORT} {\n\tbind 127.0.0.1\n"+site+"\n}\n")
}

type hgStatus struct {
	Pool      string `json:"pool"`
	Upstream  string `json:"upstream"`
	Role      string `json:"role"`
	State     string `json:"state"`
	Serving   bool   `json:"serving"`
	Passes    int    `json:"consecutive_passes"`
	Fails     int    `json:"consecutive_fails"`
	LastError string `json:"last_error"`
	Checks    uint64 `json:"checks"`
	DownBy    string `json:"down_by"`
	LiveErrs  uint64 `json:"live_errors"`
	LastLive  string `json:"last_live_error"`
}

// states reads GET /healthgate/ from the admin API, keyed by upstream.
func (h *hgFrontdesk) states(t *testing.T) map[string]hgStatus {
	t.Helper()
	var body struct {
		Pools []struct {
			Name      string     `json:"name"`
			Upstreams []hgStatus `json:"upstreams"`
		} `json:"pools"`
	}
	h.admin().getJSON(t, "/healthgate/", &body)
	out := map[string]hgStatus{}
	for _, p := range body.Pools {
		for _, u := range p.Upstreams {
			out[u.Upstream] = u
		}
	}
	return out
}

// waitServing waits until every upstream in addrs is serving (or not).
func (h *hgFrontdesk) waitServing(t *testing.T, want bool, timeout time.Duration, addrs ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		st := h.states(t)
		ok := true
		for _, a := range addrs {
			if st[a].Serving != want {
				ok = false
			}
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("upstreams %v not serving=%v within %s: %+v", addrs, want, timeout, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// admin is the instance's admin API.
func (h *hgFrontdesk) admin() adminAPI { return adminAPI(h.fd.Admin) }

func (h *hgFrontdesk) get(t *testing.T, path string) response {
	t.Helper()
	return do(t, "GET", "http://"+h.addr+path, "", "Host: 127.0.0.1")
}

// expectBodies sends n GETs for path and fails the test unless each one is
// answered with the body want; when says in what situation.
func (h *hgFrontdesk) expectBodies(t *testing.T, n int, path, want, when string) {
	t.Helper()
	for range n {
		if r := h.get(t, path); r.body != want {
			t.Fatalf("%s: got %d %q, want %q", when, r.status, r.body, want)
		}
	}
}

// startHGFlasks runs n lab Flask APIs on free ports until the test ends.
func startHGFlasks(t *testing.T, logDir string, n int) (flasks []*harness.Flask, ports []int) {
	t.Helper()
	for range n {
		port := freePort(t)
		flasks = append(flasks, startHGFlask(t, logDir, port))
		ports = append(ports, port)
	}
	return flasks, ports
}

// startHGFlask runs a lab Flask API on port until the test ends.
func startHGFlask(t *testing.T, logDir string, port int) *harness.Flask {
	t.Helper()
	f, err := harness.StartFlaskOn(logDir, port)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, f.Process)
	return f
}

// lastLineContaining is the last line of log that contains substr, or "".
func lastLineContaining(log, substr string) string {
	var line string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, substr) {
			line = l
		}
	}
	return line
}

func hgPool(name string, lines ...string) string {
	return "\treverse_proxy {\n\t\tdynamic healthgate " + name + " {\n\t\t\t" + strings.Join(lines, "\n\t\t\t") + "\n\t\t}\n"
}

// TestHealthgateGating: a backend whose /healthz answers 503 never gets a
// request, while three lab Flask APIs share the load once they passed rise.
func TestHealthgateGating(t *testing.T) {
	requirePeer(t, "python3-flask")
	logDir := t.TempDir()
	flasks, _ := startHGFlasks(t, logDir, 3)
	sick := newHGBackend(t, "sick", false)
	h := startHG(t, hgPool("web",
		"to "+flasks[0].Addr+" "+flasks[1].Addr+" "+flasks[2].Addr+" "+sick.addr(),
		"interval 100ms", "timeout 1s", "expect_json status healthy", "rise 2", "fall 2")+
		"\t\tlb_policy round_robin\n\t}")
	// Requests sent while gating is in progress must not reach the sick one.
	for range 20 {
		h.get(t, "/api/hello")
	}
	h.waitServing(t, true, 10*time.Second, flasks[0].Addr, flasks[1].Addr, flasks[2].Addr)
	for i := range 60 {
		if r := h.get(t, "/api/hello"); r.status != 200 || r.body != `{"message":"Hello, World!"}`+"\n" {
			t.Fatalf("request %d: %d %q", i, r.status, r.body)
		}
	}
	if n := sick.served.Load(); n != 0 {
		t.Errorf("the backend whose /healthz answers 503 got %d requests", n)
	}
	st := h.states(t)[sick.addr()]
	if st.State != "gated" || st.LastError != "status 503" {
		t.Errorf("sick backend state: %+v", st)
	}
	for _, f := range flasks {
		if n := strings.Count(f.Log(), "GET /api/hello"); n < 15 {
			t.Errorf("flask %s served %d of 60 requests, want about 20 (round_robin)", f.Addr, n)
		}
	}
}

// TestHealthgateAllDown: with every upstream down the client gets 502 in
// under 100 ms although lb_try_duration is 5 s, and the log names the
// upstreams and the cause; fall and rise take the backend out and back.
func TestHealthgateAllDown(t *testing.T) {
	requirePeer(t, "python3-flask")
	f := startHGFlask(t, t.TempDir(), freePort(t))
	sick := newHGBackend(t, "sick", true)
	h := startHG(t, hgPool("api",
		"to "+f.Addr+" "+sick.addr(), "interval 100ms", "timeout 500ms", "expect_json status healthy", "rise 2", "fall 3")+
		"\t\tlb_try_duration 5s\n\t\tlb_try_interval 50ms\n\t}")
	h.waitServing(t, true, 10*time.Second, f.Addr, sick.addr())

	// fall: 3 failed checks take it out; rise: 2 passes bring it back.
	sick.healthy.Store(false)
	h.waitServing(t, false, 3*time.Second, sick.addr())
	if st := h.states(t)[sick.addr()]; st.Fails < 3 || st.State != "down" {
		t.Errorf("after fall: %+v", st)
	}
	f.Kill()
	h.waitServing(t, false, 3*time.Second, f.Addr)

	for i := range 5 {
		start := time.Now()
		r := h.get(t, "/api/hello")
		took := time.Since(start)
		if r.status != http.StatusBadGateway {
			t.Fatalf("request %d with all down: status %d, want 502", i, r.status)
		}
		if took > 100*time.Millisecond {
			t.Errorf("request %d with all down took %s, want < 100ms", i, took)
		}
	}
	line := lastLineContaining(h.fd.Log(), "no healthy upstream: answering 502")
	if line == "" || !strings.Contains(line, f.Addr+" down: connection refused") ||
		!strings.Contains(line, sick.addr()+" down: status 503") || !strings.Contains(line, `"pool":"api"`) {
		t.Errorf("log line naming the down upstreams missing or incomplete: %q", line)
	}
	want := "no healthy upstream in pool api (" + f.Addr + " down: connection refused, " + sick.addr() + " down: status 503)"
	if line := lastLineContaining(h.fd.Log(), `"logger":"http.log.error"`); !strings.Contains(line, want) {
		t.Errorf("the request's error log line %q does not say %q", line, want)
	}

	sick.healthy.Store(true)
	took := h.waitServing(t, true, 3*time.Second, sick.addr())
	t.Logf("back in rotation %s after healthz recovered", took)
	if r := h.get(t, "/x"); r.status != 200 || r.body != "sick" {
		t.Errorf("after rise: %d %q", r.status, r.body)
	}
}

// TestHealthgateBackup: the backup serves only while every primary is down.
func TestHealthgateBackup(t *testing.T) {
	p1, p2 := newHGBackend(t, "p1", true), newHGBackend(t, "p2", true)
	bk := newHGBackend(t, "backup", true)
	h := startHG(t, hgPool("bk", "to "+p1.addr()+" "+p2.addr(), "backup "+bk.addr(),
		"interval 50ms", "rise 1", "fall 1")+"\t}")
	h.waitServing(t, true, 5*time.Second, p1.addr(), p2.addr(), bk.addr())
	for range 20 {
		if r := h.get(t, "/"); r.body == "backup" || r.status != 200 {
			t.Fatalf("backup used while primaries are up: %d %q", r.status, r.body)
		}
	}
	p1.healthy.Store(false)
	h.waitServing(t, false, 3*time.Second, p1.addr())
	h.expectBodies(t, 10, "/", "p2", "with p1 down")
	p2.healthy.Store(false)
	h.waitServing(t, false, 3*time.Second, p2.addr())
	h.expectBodies(t, 10, "/", "backup", "with every primary down")
	p2.healthy.Store(true)
	h.waitServing(t, true, 3*time.Second, p2.addr())
	h.expectBodies(t, 10, "/", "p2", "primary back")
}

// TestHealthgateDrain: draining through the admin API sends no new
// requests to the upstream while an in-flight one finishes; events are
// emitted for the transitions, and metrics show the state.
func TestHealthgateDrain(t *testing.T) {
	a, b := newHGBackend(t, "a", true), newHGBackend(t, "b", true)
	h := startHG(t, hgPool("dr", "to "+a.addr()+" "+b.addr(), "interval 50ms", "rise 1")+
		"\t\tlb_policy first\n\t}")
	h.waitServing(t, true, 5*time.Second, a.addr(), b.addr())

	// An in-flight request to a (policy first) ...
	a.delay.Store(int64(500 * time.Millisecond))
	var inflight response
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); inflight = h.get(t, "/slow") }()
	time.Sleep(100 * time.Millisecond)
	// ... survives the drain, and new requests go to b.
	code, body := h.admin().do(t, "POST", "/healthgate/drain?pool=dr&upstream="+a.addr(), "")
	if code != 200 || !strings.Contains(body, `"state":"drained"`) {
		t.Fatalf("drain: %d %s", code, body)
	}
	servedBefore := a.served.Load()
	h.expectBodies(t, 10, "/", "b", "after drain")
	wg.Wait()
	if inflight.status != 200 || inflight.body != "a" {
		t.Errorf("in-flight request during drain: %d %q", inflight.status, inflight.body)
	}
	if a.served.Load() != servedBefore {
		t.Errorf("drained upstream got new requests")
	}
	for _, step := range []struct{ action, want string }{{"undrain", "a"}, {"force_down", "b"}} {
		if code, _ := h.admin().do(t, "POST", "/healthgate/"+step.action+"?pool=dr&upstream="+a.addr(), ""); code != 200 {
			t.Fatalf("%s: %d", step.action, code)
		}
		h.expectBodies(t, 1, "/", step.want, "after "+step.action)
	}
	if code, _ := h.admin().do(t, "POST", "/healthgate/drain?pool=dr&upstream=127.0.0.1:1", ""); code != 404 {
		t.Errorf("drain of an unknown upstream: %d, want 404", code)
	}

	// Events: up for both at start, drained and down from the admin API.
	events, _ := os.ReadFile(filepath.Join(h.logDir, "events.log"))
	for _, want := range []string{`"name":"healthgate.up"`, `"name":"healthgate.drained"`, `"name":"healthgate.down"`} {
		if !strings.Contains(string(events), want) {
			t.Errorf("events log has no %s:\n%s", want, lastLines(string(events), 10))
		}
	}
	// Metrics through the admin /metrics endpoint.
	m := h.admin().get(t, "/metrics")
	for _, want := range []string{
		fmt.Sprintf(`frontdesk_healthgate_upstream_serving{pool="dr",upstream=%q} 0`, a.addr()),
		fmt.Sprintf(`frontdesk_healthgate_upstream_serving{pool="dr",upstream=%q} 1`, b.addr()),
		fmt.Sprintf(`frontdesk_healthgate_checks_total{pool="dr",upstream=%q}`, b.addr()),
		`frontdesk_healthgate_check_duration_seconds_bucket{pool="dr"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestHealthgateReloadKeepsState: a POST /load that keeps the upstreams
// keeps their state and counters (no re-gating even with rise 50), and
// a removed upstream is no longer checked.
func TestHealthgateReloadKeepsState(t *testing.T) {
	a, gone := newHGBackend(t, "a", true), newHGBackend(t, "gone", true)
	h := startHG(t, hgPool("rl", "to "+a.addr()+" "+gone.addr(), "interval 50ms", "rise 2")+"\t}")
	h.waitServing(t, true, 5*time.Second, a.addr(), gone.addr())
	before := h.states(t)[a.addr()].Checks

	h.load(t, hgPool("rl", "to "+a.addr(), "interval 50ms", "rise 50")+"\t}")
	if r := h.get(t, "/"); r.status != 200 || r.body != "a" {
		t.Fatalf("right after reload: %d %q (re-gated?)", r.status, r.body)
	}
	st := h.states(t)
	if st[a.addr()].Checks < before || !st[a.addr()].Serving {
		t.Errorf("state after reload: %+v (checks before: %d)", st[a.addr()], before)
	}
	if _, ok := st[gone.addr()]; ok {
		t.Errorf("removed upstream still listed: %+v", st[gone.addr()])
	}
	n := gone.checks.Load()
	time.Sleep(300 * time.Millisecond)
	if d := gone.checks.Load() - n; d > 1 {
		t.Errorf("removed upstream was checked %d more times after the reload", d)
	}
}

// TestHealthgateKillRestartUnderLoad: one of three lab Flask APIs is killed
// under steady load and restarted on the same port. Clients see no error
// (reverse_proxy retries with lb_try_duration, passive health, and the
// checker takes it out), and the restarted one is back in rotation within
// rise × interval + 0.5 s of answering /healthz again.
func TestHealthgateKillRestartUnderLoad(t *testing.T) {
	requirePeer(t, "python3-flask")
	logDir := t.TempDir()
	flasks, ports := startHGFlasks(t, logDir, 3)
	const interval, rise = 200 * time.Millisecond, 2
	h := startHG(t, hgPool("lab",
		"to "+flasks[0].Addr+" "+flasks[1].Addr+" "+flasks[2].Addr,
		"interval 200ms", "timeout 1s", "expect_json status healthy", "rise 2", "fall 2")+
		"\t\tlb_policy round_robin\n\t\tlb_try_duration 5s\n\t\tlb_try_interval 50ms\n\t\tfail_duration 500ms\n\t}")
	h.waitServing(t, true, 10*time.Second, flasks[0].Addr, flasks[1].Addr, flasks[2].Addr)

	var ok, failed, cut atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loadClient := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := loadClient.Get("http://" + h.addr + "/api/hello?name=load")
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil && resp.StatusCode == 200 {
					// The backend was killed after its response had
					// started: no proxy can retry a response it has begun
					// to pass on. Counted apart, and bounded below.
					cut.Add(1)
					continue
				}
				if resp.StatusCode != 200 || string(body) != `{"message":"Hello, load!"}`+"\n" {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %q", resp.StatusCode, body))
					continue
				}
				ok.Add(1)
			}
		}()
	}
	time.Sleep(time.Second)
	flasks[1].Kill()
	h.waitServing(t, false, 5*time.Second, flasks[1].Addr)
	time.Sleep(time.Second)
	f := startHGFlask(t, logDir, ports[1]) // returns once /healthz answers 200
	backIn := h.waitServing(t, true, 5*time.Second, f.Addr)
	limit := rise*interval + interval/5 + 500*time.Millisecond // rise × interval (+ jitter) + 0.5 s
	if backIn > limit {
		t.Errorf("restarted backend back in rotation after %s, want within %s", backIn, limit)
	}
	// It receives traffic again.
	logBefore := strings.Count(f.Log(), "GET /api/hello")
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if got := strings.Count(f.Log(), "GET /api/hello"); got <= logBefore {
		t.Errorf("restarted backend got no requests after it came back")
	}
	t.Logf("requests: %d ok, %d failed, %d cut by the kill; back in rotation after %s", ok.Load(), failed.Load(), cut.Load(), backIn)
	if cut.Load() > 4 {
		// One kill can cut only the responses in flight on that backend
		// at that instant: at most one per load client.
		t.Errorf("%d responses cut mid-body, want at most the 4 in flight at the kill", cut.Load())
	}
	if failed.Load() != 0 {
		t.Errorf("%d client-visible errors under kill/restart (first: %v)", failed.Load(), firstErr.Load())
	}
	if ok.Load() < 100 {
		t.Errorf("only %d requests went through", ok.Load())
	}
}

// TestHealthgateUnavailable503: with `unavailable 503 retry_after 5s` the
// all-down answer is 503 with Retry-After, no-store and a JSON body naming
// the pool, in well under 100 ms although lb_try_duration is 5 s (a retry
// would wait lb_try_interval, 250 ms), for GET and POST alike; the error
// log still names the down upstreams. The 503 is no passive-health strike:
// with max_fails 1 and fail_duration 30 s the upstream serves as soon as
// it is up, and answers 503 again at once when it goes down. A reload
// keeps the responder (same address); a reload without the option closes
// it and leaves no goroutine behind.
func TestHealthgateUnavailable503(t *testing.T) {
	b := newHGBackend(t, "b", false)
	// No keep-alive to b: the proxy's idle connections to it would outlive
	// a reload and blur the goroutine count below.
	b.Config.SetKeepAlivesEnabled(false)
	site := func(unavailable string) string {
		lines := []string{"to " + b.addr(), "interval 50ms", "rise 1", "fall 1"}
		if unavailable != "" {
			lines = append(lines, unavailable)
		}
		return hgPool("u", lines...) +
			"\t\tlb_try_duration 5s\n\t\tlb_try_interval 250ms\n" +
			"\t\tfail_duration 30s\n\t\tmax_fails 1\n\t\tunhealthy_status 500\n" +
			"\t\theader_down X-Upstream {http.reverse_proxy.upstream.hostport}\n\t}"
	}
	// Baseline goroutines with the default (502) config, after a request.
	h := startHG(t, site(""))
	if r := h.get(t, "/"); r.status != 502 {
		t.Fatalf("default all-down answer: %d, want 502", r.status)
	}
	time.Sleep(200 * time.Millisecond)
	baseline := h.admin().goroutines(t)

	h.load(t, site("unavailable 503 retry_after 5s"))
	var responder string
	var slowest time.Duration
	check := func(what string, r response, took time.Duration) {
		t.Helper()
		if r.status != 503 || r.header.Get("Retry-After") != "5" || r.header.Get("Cache-Control") != "no-store" ||
			r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v, want 503 with Retry-After 5 and no-store", what, r.status, r.header)
		}
		var body struct {
			Error      string `json:"error"`
			Pool       string `json:"pool"`
			RetryAfter int    `json:"retry_after"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Pool != "u" || body.RetryAfter != 5 || body.Error != "no healthy upstream" {
			t.Errorf("%s: body %q (%v)", what, r.body, err)
		}
		if took > 100*time.Millisecond {
			t.Errorf("%s took %s, want < 100ms (no lb_try_duration retry loop)", what, took)
		}
		slowest = max(slowest, took)
		if responder == "" {
			responder = r.header.Get("X-Upstream")
		} else if got := r.header.Get("X-Upstream"); got != responder {
			t.Errorf("%s: answered by %s, before by %s", what, got, responder)
		}
	}
	for i := range 5 {
		start := time.Now()
		r := h.get(t, "/api/hello")
		check(fmt.Sprintf("GET %d", i), r, time.Since(start))
	}
	start := time.Now()
	r := do(t, "POST", "http://"+h.addr+"/api/echo", strings.Repeat("x", 1<<20), "Host: 127.0.0.1", "Content-Type: text/plain")
	check("POST of 1 MiB", r, time.Since(start))
	if !strings.HasPrefix(responder, "127.0.0.1:") {
		t.Fatalf("503 came from %q, want the loopback responder", responder)
	}
	if n := b.served.Load(); n != 0 {
		t.Errorf("the down backend got %d requests", n)
	}
	t.Logf("all down, lb_try_duration 5s: 503 in at most %s (GET and POST of 1 MiB)", slowest)

	line := lastLineContaining(h.fd.Log(), "no healthy upstream: answering 503")
	if line == "" || !strings.Contains(line, b.addr()+" gated: rise 0/1, status 503") || !strings.Contains(line, `"pool":"u"`) {
		t.Errorf("log line naming the down upstreams missing or incomplete: %q", line)
	}

	// Up: served at once, although every 503 went through passive health
	// with max_fails 1.
	b.healthy.Store(true)
	h.waitServing(t, true, 3*time.Second, b.addr())
	if r := h.get(t, "/x"); r.status != 200 || r.body != "b" {
		t.Errorf("after the backend came up: %d %q", r.status, r.body)
	}
	// Down again: the responder was not struck either.
	b.healthy.Store(false)
	h.waitServing(t, false, 3*time.Second, b.addr())
	start = time.Now()
	r = h.get(t, "/")
	check("GET after going down again", r, time.Since(start))

	// A reload that keeps the setting keeps the responder.
	h.load(t, strings.Replace(site("unavailable 503 retry_after 5s"), "interval 50ms", "interval 60ms", 1))
	start = time.Now()
	r = h.get(t, "/")
	check("GET after a reload", r, time.Since(start))

	// Back to 502: the responder is closed, and nothing is left running.
	h.load(t, site(""))
	if r := h.get(t, "/"); r.status != 502 {
		t.Errorf("after removing the option: %d, want 502", r.status)
	}
	if c, err := net.DialTimeout("tcp", responder, time.Second); err == nil {
		c.Close()
		t.Errorf("responder %s still listening after the option was removed", responder)
	}
	now := h.waitGoroutines(t, baseline+1, 5*time.Second)
	t.Logf("goroutines: %d before the 503 config, %d after it was removed", baseline, now)
	if now > baseline+1 {
		t.Errorf("goroutines grew from %d to %d", baseline, now)
	}
}

// TestHealthgateUnavailableValidate: a bad `unavailable` fails adapt and
// validate with file and line; validate also refuses unavailable 503 with
// a passive health check that would count the 503 as a failure.
func TestHealthgateUnavailableValidate(t *testing.T) {
	cases := []struct {
		name, extra, proxy string
		subs               []string
		want               string // after "<file>:6: " when line is set
		line               bool
	}{
		{"bad status", "unavailable 504", "", []string{"adapt", "validate"}, `healthgate: unavailable: status must be 502 or 503, got "504"`, true},
		{"retry_after with 502", "unavailable 502 retry_after 5s", "", []string{"adapt", "validate"}, "healthgate: unavailable: retry_after needs status 503", true},
		{"zero retry_after", "unavailable 503 retry_after 0s", "", []string{"adapt", "validate"}, `healthgate: unavailable: retry_after must be positive, got "0s"`, true},
		{"passive 5xx", "unavailable 503", "\t\tfail_duration 10s\n\t\tunhealthy_status 5xx\n", []string{"validate"},
			"healthgate pool v: unavailable 503 conflicts with passive health check unhealthy_status 5xx", false},
	}
	caddyfile := func(extra, proxy string) string {
		return "http://127.0.0.1:8000 {\n\treverse_proxy {\n\t\tdynamic healthgate v {\n\t\t\tto 127.0.0.1:1\n\t\t\tinterval 1h\n\t\t\t" +
			extra + "\n\t\t}\n" + proxy + "\t}\n}\n"
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.Caddyfile")
			if err := os.WriteFile(path, []byte(caddyfile(c.extra, c.proxy)), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, sub := range c.subs {
				out, err := exec.Command(frontdeskBin, sub, "--config", path).CombinedOutput()
				if err == nil {
					t.Errorf("%s accepted:\n%s", sub, out)
					continue
				}
				msg := logMessages(out)
				if !strings.Contains(msg, c.want) || (c.line && !strings.Contains(msg, path+":6")) {
					t.Errorf("%s: want %q (line 6: %v) in:\n%s", sub, c.want, c.line, msg)
				}
			}
		})
	}
	// The good form validates, with passive health leaving 503 out.
	path := filepath.Join(t.TempDir(), "good.Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile("unavailable 503 retry_after 30s", "\t\tfail_duration 10s\n\t\tunhealthy_status 500 502 504\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(frontdeskBin, "validate", "--config", path).CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid configuration") {
		t.Errorf("validate: %v\n%s", err, out)
	}
}

// waitGoroutines polls the goroutine count until it is at most atMost or
// timeout has passed, and returns the last count.
func (h *hgFrontdesk) waitGoroutines(t *testing.T, atMost int, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := h.admin().goroutines(t)
		if n <= atMost || time.Now().After(deadline) {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// load writes site to the Caddyfile and POSTs it to the admin API's /load.
func (h *hgFrontdesk) load(t *testing.T, site string) {
	t.Helper()
	h.write(t, site)
	text, err := os.ReadFile(h.file)
	if err != nil {
		t.Fatal(err)
	}
	h.admin().reload(t, string(text))
	// The old config's server closes its idle keep-alive connections; a
	// request racing that close on a reused connection gets EOF (seen once
	// in CI under load), which is the connection's fate, not the config's.
	client.CloseIdleConnections()
}

// TestHealthgateReloadNoGoroutineLeak: 30 reloads of the real binary that
// add and remove upstreams and pools leave the goroutine count where it
// was, and the removed upstreams' checkers stop.
func TestHealthgateReloadNoGoroutineLeak(t *testing.T) {
	var bs []*hgBackend
	for i := range 6 {
		bs = append(bs, newHGBackend(t, strconv.Itoa(i), true))
	}
	base := hgPool("leak", "to "+bs[0].addr(), "interval 20ms", "rise 1") + "\t}"
	h := startHG(t, base)
	h.waitServing(t, true, 5*time.Second, bs[0].addr())
	// One proxied request first: reverse_proxy starts a process-wide
	// cleaner goroutine for dynamic hosts on first use.
	h.get(t, "/")
	time.Sleep(300 * time.Millisecond)
	baseline := h.admin().goroutines(t)
	for i := range 30 {
		site := hgPool("leak", "to "+bs[0].addr()+" "+bs[1+i%5].addr()+" "+bs[1+(i+2)%5].addr(), "interval 20ms", "rise 1") + "\t}\n" +
			"\thandle /other* {\n" + hgPool("other"+strconv.Itoa(i%3), "to "+bs[1+(i+1)%5].addr(), "interval 20ms") + "\t}\n\t}"
		h.load(t, site)
	}
	h.load(t, base)
	if r := h.get(t, "/"); r.status != 200 || r.body != "0" {
		t.Fatalf("after reloads: %d %q", r.status, r.body)
	}
	st := h.states(t)
	if len(st) != 1 {
		t.Errorf("after reloading back, %d upstreams are tracked, want 1: %+v", len(st), st)
	}
	checks := make([]int64, len(bs))
	for i, b := range bs {
		checks[i] = b.checks.Load()
	}
	now := h.waitGoroutines(t, baseline+1, 5*time.Second)
	t.Logf("goroutines: %d before the reloads, %d after", baseline, now)
	if now > baseline+1 {
		t.Errorf("goroutines grew from %d to %d over 30 reloads", baseline, now)
	}
	for i := 1; i < len(bs); i++ {
		if d := bs[i].checks.Load() - checks[i]; d > 1 {
			t.Errorf("removed upstream %s still checked (%d checks)", bs[i].addr(), d)
		}
	}
}
