package integration

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestHealthgateNo502AtStart: requests fired the moment the binary listens
// are answered by the healthy backend, none with 502, although rise 3 ×
// interval 2s would gate the pool for about 4 s if the first checks kept
// the interval: the first rise checks run back to back, and a request
// that comes before the pool's first verdict waits for it. A backend whose
// /healthz fails and an address nobody listens on still get nothing.
func TestHealthgateNo502AtStart(t *testing.T) {
	good := newHGBackend(t, "good", true)
	// Slow checks: the first verdict (3 checks) comes well after the
	// listener is up, so early requests do have to wait for it.
	good.slowHC.Store(int64(150 * time.Millisecond))
	sick := newHGBackend(t, "sick", false)
	dead := "127.0.0.1:" + strconv.Itoa(freePort(t))
	h := startHG(t, hgPool("start",
		"to "+good.addr()+" "+sick.addr()+" "+dead,
		"interval 2s", "timeout 1s", "expect_json status healthy", "rise 3", "fall 2")+
		"\t\tlb_policy round_robin\n\t}")

	const clients, each = 4, 15
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := h.get(t, "/x")
				if r.status != 200 || r.body != "good" {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("client %d request %d at %s: %d %q", c, i, time.Since(start).Round(time.Millisecond), r.status, r.body))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d requests from start in %s", clients*each, time.Since(start).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("%d of %d requests at start not served by the healthy backend; first: %s", len(bad), clients*each, bad[0])
	}
	if n := sick.served.Load(); n != 0 {
		t.Errorf("the backend whose /healthz fails got %d requests", n)
	}
	st := h.states(t)
	if s := st[good.addr()]; s.State != "up" || s.Checks < 3 {
		t.Errorf("good: %+v", s)
	}
	for _, a := range []string{sick.addr(), dead} {
		if s := st[a]; s.State != "gated" || s.Serving {
			t.Errorf("%s: %+v, want gated", a, s)
		}
	}
}

// TestHealthgateReloadAddsUpstreamFast: an upstream added by a reload runs
// its first rise checks back to back and serves within a moment, not
// rise × interval; the upstream the reload keeps is neither re-gated nor
// re-checked early (its state and check count carry over).
func TestHealthgateReloadAddsUpstreamFast(t *testing.T) {
	a, b := newHGBackend(t, "a", true), newHGBackend(t, "b", true)
	pool := func(to string) string {
		return hgPool("grow", "to "+to, "interval 2s", "timeout 1s", "rise 3") + "\t\tlb_policy round_robin\n\t}"
	}
	h := startHG(t, pool(a.addr()))
	h.waitServing(t, true, 5*time.Second, a.addr())
	checksA := a.checks.Load()

	h.load(t, pool(a.addr()+" "+b.addr()))
	took := h.waitServing(t, true, 5*time.Second, b.addr())
	t.Logf("added upstream serving %s after the reload", took)
	// rise 3 at interval 2s would take at least 3.6 s.
	if took > 1500*time.Millisecond {
		t.Errorf("added upstream serving after %s, want its 3 first checks back to back", took)
	}
	if got := a.checks.Load(); got > checksA+1 {
		t.Errorf("kept upstream checked %d more times right after the reload, want its interval kept", got-checksA)
	}
	if s := h.states(t)[a.addr()]; s.State != "up" || s.Checks < 3 {
		t.Errorf("kept upstream after reload: %+v", s)
	}
}
