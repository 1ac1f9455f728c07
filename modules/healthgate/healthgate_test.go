package healthgate

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// backend is a test upstream whose /healthz answer can be switched.
type backend struct {
	*httptest.Server
	healthy atomic.Bool
	checks  atomic.Int64
}

func newBackend(t *testing.T, healthy bool) *backend {
	t.Helper()
	b := &backend{}
	b.healthy.Store(healthy)
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.checks.Add(1)
		if !b.healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"healthy"}`))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.URL, "http://") }

func source(pool string, members ...Member) *Source {
	return &Source{
		Pool: pool, Upstreams: members,
		Interval: caddy.Duration(20 * time.Millisecond), Timeout: caddy.Duration(200 * time.Millisecond),
		Rise: 2, Fall: 2, ExpectJSON: &JSONExpectation{Path: "status", Value: "healthy"},
	}
}

func provision(t *testing.T, s *Source) *Source {
	t.Helper()
	if err := s.provision(&emitter{}, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	return s
}

func dials(t *testing.T, s *Source) []string {
	t.Helper()
	ups, err := s.GetUpstreams(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range ups {
		out = append(out, u.Dial)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGatedUntilRise(t *testing.T) {
	b := newBackend(t, true)
	s := provision(t, source(t.Name(), Member{Dial: b.addr()}))
	defer s.Cleanup()
	// A request before any verdict waits for rise (2) checks to pass, and
	// is then handed the upstream.
	if got := dials(t, s); len(got) != 1 || got[0] != b.addr() {
		t.Fatalf("first request: got %v, want %s after the first verdict", got, b.addr())
	}
	if st := s.members[0].st.status(); st.Passes < 2 || st.State != stateUp {
		t.Errorf("handed out after %d passes (%s), want rise=2", st.Passes, st.State)
	}
}

func TestInitiallyHealthy(t *testing.T) {
	b := newBackend(t, false)
	src := source(t.Name(), Member{Dial: b.addr()})
	src.InitiallyHealthy = true
	src.Interval = caddy.Duration(time.Hour)
	s := provision(t, src)
	defer s.Cleanup()
	if got := dials(t, s); len(got) != 1 || got[0] != b.addr() {
		t.Fatalf("got %v, want the upstream before any check", got)
	}
}

func TestFallAndRise(t *testing.T) {
	b := newBackend(t, true)
	s := provision(t, source(t.Name(), Member{Dial: b.addr()}))
	defer s.Cleanup()
	st := s.members[0].st
	waitFor(t, "up", st.serving.Load)
	b.healthy.Store(false)
	waitFor(t, "down", func() bool { return !st.serving.Load() })
	if got := st.status(); got.State != stateDown || got.Fails < 2 || got.LastError != "status 503" {
		t.Errorf("after fall: %+v", got)
	}
	b.healthy.Store(true)
	waitFor(t, "up again", st.serving.Load)
}

func TestWeightsBackupDown(t *testing.T) {
	p1, p2, p3, bk := newBackend(t, true), newBackend(t, true), newBackend(t, true), newBackend(t, true)
	s := provision(t, source(t.Name(),
		Member{Dial: p1.addr(), Weight: 3}, Member{Dial: p2.addr()}, Member{Dial: p3.addr(), Down: true},
		Member{Dial: bk.addr(), Backup: true}))
	defer s.Cleanup()
	for _, m := range s.members {
		waitFor(t, "all healthy", func() bool { return m.st.status().Healthy })
	}
	if st := s.members[2].st.status(); st.State != stateConfigOff || st.Serving {
		t.Errorf("down upstream: %+v", st)
	}
	got := strings.Join(dials(t, s), " ")
	want := strings.Join([]string{p1.addr(), p1.addr(), p1.addr(), p2.addr()}, " ")
	if got != want {
		t.Fatalf("primaries: got %s, want %s", got, want)
	}
	// The backup is used only while every primary is out.
	p1.healthy.Store(false)
	p2.healthy.Store(false)
	waitFor(t, "backup in use", func() bool {
		d := dials(t, s)
		return len(d) == 1 && d[0] == bk.addr()
	})
	p2.healthy.Store(true)
	waitFor(t, "primary back", func() bool {
		d := dials(t, s)
		return len(d) == 1 && d[0] == p2.addr()
	})
}

func TestDrainAndForceDown(t *testing.T) {
	a, b := newBackend(t, true), newBackend(t, true)
	s := provision(t, source(t.Name(), Member{Dial: a.addr()}, Member{Dial: b.addr()}))
	defer s.Cleanup()
	for _, m := range s.members {
		waitFor(t, "up", m.st.serving.Load)
	}
	st := lookupState(t.Name(), a.addr())
	if err := st.adminAction("drain"); err != nil {
		t.Fatal(err)
	}
	if got := dials(t, s); len(got) != 1 || got[0] != b.addr() {
		t.Fatalf("drained: got %v", got)
	}
	if st.status().State != stateDrained {
		t.Errorf("state %s", st.status().State)
	}
	_ = st.adminAction("undrain")
	_ = st.adminAction("force_down")
	if got := dials(t, s); len(got) != 1 || got[0] != b.addr() {
		t.Fatalf("forced down: got %v", got)
	}
	_ = st.adminAction("ready")
	if got := dials(t, s); len(got) != 2 {
		t.Fatalf("ready: got %v", got)
	}
	if err := st.adminAction("explode"); err == nil {
		t.Error("unknown action accepted")
	}
}

// TestReloadKeepsStateAndStopsCheckers simulates config reloads: the new
// config is provisioned before the old one is cleaned up, as Caddy does.
// Kept upstreams stay up with their counters; removed ones stop being
// checked; after the last config goes, the goroutine count is back to its
// baseline.
func TestReloadKeepsStateAndStopsCheckers(t *testing.T) {
	keep, gone := newBackend(t, true), newBackend(t, true)
	runtime.GC()
	baseline := runtime.NumGoroutine()

	old := provision(t, source(t.Name(), Member{Dial: keep.addr()}, Member{Dial: gone.addr()}))
	waitFor(t, "up", old.members[0].st.serving.Load)
	checksBefore := old.members[0].st.status().Checks

	cur := old
	for i := range 30 {
		members := []Member{{Dial: keep.addr()}}
		if i%2 == 1 {
			members = append(members, Member{Dial: gone.addr()})
		}
		next := provision(t, source(t.Name(), members...))
		if err := cur.Cleanup(); err != nil {
			t.Fatal(err)
		}
		cur = next
		// No re-gating: the kept upstream is handed out right after the reload.
		if d := dials(t, cur); len(d) == 0 || d[0] != keep.addr() {
			t.Fatalf("reload %d: got %v, want %s at once", i, d, keep.addr())
		}
	}
	// A drain from the admin API is part of the state and survives a reload
	// that keeps the upstream.
	if err := lookupState(t.Name(), gone.addr()).adminAction("drain"); err != nil {
		t.Fatal(err)
	}
	kept := provision(t, source(t.Name(), Member{Dial: keep.addr()}, Member{Dial: gone.addr()}))
	cur.Cleanup()
	cur = kept
	if st := lookupState(t.Name(), gone.addr()); st == nil || st.status().State != stateDrained {
		t.Errorf("drain lost across a reload")
	}
	if got := cur.members[0].st.status().Checks; got < checksBefore {
		t.Errorf("counters reset: %d checks after reloads, %d before", got, checksBefore)
	}
	// The last config dropped `gone` (i=29 is odd, so it has it; drop it now).
	next := provision(t, source(t.Name(), Member{Dial: keep.addr()}))
	cur.Cleanup()
	n := gone.checks.Load()
	time.Sleep(100 * time.Millisecond)
	if d := gone.checks.Load() - n; d > 1 {
		t.Errorf("removed upstream still checked: %d checks after removal", d)
	}
	next.Cleanup()
	if lookupState(t.Name(), keep.addr()) != nil {
		t.Error("state left behind after the last config")
	}
	waitFor(t, "goroutines back to baseline", func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}
