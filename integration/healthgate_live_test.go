package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hgEvent is one line of the events log (hgGlobal's `log events`).
type hgEvent struct {
	TS   float64           `json:"ts"`
	Name string            `json:"name"`
	Data map[string]string `json:"data"`
}

// events reads the healthgate events logged so far.
func (h *hgFrontdesk) events(t *testing.T) []hgEvent {
	t.Helper()
	f, err := os.Open(filepath.Join(h.logDir, "events.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []hgEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e hgEvent
		if json.Unmarshal(sc.Bytes(), &e) == nil && strings.HasPrefix(e.Name, "healthgate.") {
			out = append(out, e)
		}
	}
	return out
}

// loadClients runs n closed-loop clients against url until stop is
// closed, counting good answers, failures and responses cut mid-body.
type loadClients struct {
	ok, failed, cut atomic.Int64
	firstErr        atomic.Value
	stop            chan struct{}
	wg              sync.WaitGroup
}

func startLoad(n int, url, want string) *loadClients {
	l := &loadClients{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				resp, err := client.Get(url)
				if err != nil {
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil && resp.StatusCode == 200:
					// The backend died after its response had started: no
					// proxy can retry a response it has begun to pass on.
					l.cut.Add(1)
				case resp.StatusCode != 200 || string(body) != want:
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %q", resp.StatusCode, body))
				default:
					l.ok.Add(1)
				}
			}
		}()
	}
	return l
}

func (l *loadClients) finish() {
	close(l.stop)
	l.wg.Wait()
}

// TestHealthgateLiveTrafficTakesOut: one of three lab Flask APIs is
// SIGKILLed under closed-loop load, with the default healthgate
// configuration (no passive health options) and the transport block the
// bench uses. The first requests that meet the dead backend take it out of
// the pool at once (down_by traffic, long before fall × interval), no
// client request fails, the admin API, status page, events and metrics
// say what took it out and why, and after a restart the active checker
// alone brings it back within rise × interval (+ jitter) + 0.5 s.
func TestHealthgateLiveTrafficTakesOut(t *testing.T) {
	requirePeer(t, "python3-flask")
	logDir := t.TempDir()
	flasks, ports := startHGFlasks(t, logDir, 3)
	const interval, rise, fall = 2 * time.Second, 2, 3
	h := startHG(t, hgPool("live",
		"to "+flasks[0].Addr+" "+flasks[1].Addr+" "+flasks[2].Addr,
		"interval 2s", "timeout 1s", "expect_json status healthy", "rise 2", "fall 3")+
		"\t\tlb_policy round_robin\n\t\tlb_try_duration 5s\n"+
		"\t\ttransport http {\n\t\t\tkeepalive_idle_conns_per_host 16\n\t\t}\n\t}\n"+
		"\thandle_path /status {\n\t\thealth_status live\n\t}")
	h.waitServing(t, true, 10*time.Second, flasks[0].Addr, flasks[1].Addr, flasks[2].Addr)

	load := startLoad(6, "http://"+h.addr+"/api/hello?name=live", `{"message":"Hello, live!"}`+"\n")
	defer func() {
		select {
		case <-load.stop:
		default:
			load.finish()
		}
	}()
	time.Sleep(time.Second)
	dead := flasks[1].Addr
	killed := time.Now()
	flasks[1].Kill()
	// fall (3) failed checks at interval 2s would take more than 4 s.
	outAfter := h.waitServing(t, false, fall*interval, dead)
	st := h.states(t)[dead]
	t.Logf("out of rotation %s after the kill: %+v", outAfter, st)
	if st.DownBy != "traffic" || st.State != "down" || st.LiveErrs == 0 || st.LastLive == "" {
		t.Errorf("dead backend: %+v, want down by traffic with its live error", st)
	}
	var down *hgEvent
	for _, e := range h.events(t) {
		if e.Name == "healthgate.down" && e.Data["upstream"] == dead {
			down = &e
			break
		}
	}
	if down == nil {
		t.Fatalf("no healthgate.down event for %s", dead)
	}
	took := time.Duration(down.TS*float64(time.Second)) - time.Duration(killed.UnixNano())
	t.Logf("healthgate.down %v, %s after the kill", down.Data, took.Round(time.Millisecond))
	if down.Data["by"] != "traffic" || down.Data["pool"] != "live" || down.Data["cause"] == "" {
		t.Errorf("down event data: %v", down.Data)
	}
	// The checker's first failing check may come up to 2.2 s after the
	// kill and it needs 3; traffic takes it out with the first request.
	if took > time.Second {
		t.Errorf("taken out %s after the kill, want at once (well before fall × interval)", took)
	}
	m := h.admin().get(t, "/metrics")
	for _, want := range []string{
		`frontdesk_healthgate_down_total{by="traffic",pool="live",reason=`,
		`frontdesk_healthgate_live_errors_total{kind=`,
	} {
		if !strings.Contains(m, want) || !strings.Contains(lastLineContaining(m, want), dead) {
			t.Errorf("metrics lack %s...%s:\n%s", want, dead, lastLineContaining(m, "frontdesk_healthgate_down_total"))
		}
	}
	if page := h.get(t, "/status"); !strings.Contains(page.body, `<tr data-upstream="`+dead+`">`) ||
		!strings.Contains(page.body, `<span class="state down">down</span> <small class="by">by traffic</small>`) {
		t.Errorf("status page does not show %s down by traffic:\n%s", dead, page.body)
	}

	time.Sleep(500 * time.Millisecond)
	f := startHGFlask(t, logDir, ports[1]) // returns once /healthz answers 200
	backIn := h.waitServing(t, true, 10*time.Second, f.Addr)
	limit := rise*interval + rise*interval/10 + 500*time.Millisecond // rise × interval (+ jitter) + 0.5 s
	t.Logf("restarted backend back in rotation after %s (limit %s)", backIn, limit)
	if backIn > limit {
		t.Errorf("restarted backend back after %s, want within %s", backIn, limit)
	}
	if s := h.states(t)[dead]; s.DownBy != "" || s.State != "up" {
		t.Errorf("after recovery: %+v", s)
	}
	served := strings.Count(f.Log(), "GET /api/hello")
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(f.Log(), "GET /api/hello") == served && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	load.finish()
	if strings.Count(f.Log(), "GET /api/hello") == served {
		t.Error("restarted backend got no requests after it came back")
	}
	t.Logf("requests: %d ok, %d failed, %d cut by the kill", load.ok.Load(), load.failed.Load(), load.cut.Load())
	if load.cut.Load() > 6 {
		t.Errorf("%d responses cut mid-body, want at most the 6 in flight at the kill", load.cut.Load())
	}
	if load.failed.Load() != 0 {
		t.Errorf("%d client-visible errors (first: %v)", load.failed.Load(), load.firstErr.Load())
	}
}

// TestHealthgateLiveRefusedDefaultTransport: with no transport block (the
// default http transport, loaded by healthgate so it can watch it) and no
// lb_try_duration, a backend that refuses connections is taken out by the
// first request that meets it; with `observe off` only the checker does.
func TestHealthgateLiveRefusedDefaultTransport(t *testing.T) {
	for _, c := range []struct {
		name, option, wantBy string
	}{
		{"default", "", "traffic"},
		{"off", "observe off", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := newHGBackend(t, "a", true), newHGBackend(t, "b", true)
			lines := []string{"to " + a.addr() + " " + b.addr(), "interval 1h", "rise 1"}
			if c.option != "" {
				lines = append(lines, c.option)
			}
			h := startHG(t, hgPool("refused", lines...)+"\t\tlb_policy round_robin\n\t}")
			h.waitServing(t, true, 5*time.Second, a.addr(), b.addr())
			dead := b.addr()
			b.Close() // connections to it are refused from now on
			var bad502 int
			for range 10 {
				if r := h.get(t, "/"); r.status == http.StatusBadGateway {
					bad502++
				} else if r.body != "a" {
					t.Fatalf("got %d %q", r.status, r.body)
				}
			}
			st := h.states(t)[dead]
			switch c.wantBy {
			case "traffic":
				// Without lb_try_duration or lb_retries, healthgate's default
				// retry answers the request that met it from a; the others
				// go to a at once.
				if bad502 != 0 || st.State != "down" || st.DownBy != "traffic" || st.LastLive != "connection refused" {
					t.Errorf("%d of 10 got 502; state %+v, want none and down by traffic", bad502, st)
				}
			default:
				// An hour between checks: only live traffic could take it out.
				if bad502 != 5 || st.State != "up" || st.LiveErrs != 0 {
					t.Errorf("%d of 10 got 502; state %+v, want 5 (round robin), still up, no live errors watched", bad502, st)
				}
			}
		})
	}
}
