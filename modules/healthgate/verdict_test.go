package healthgate

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// hourly is a pool checked once an hour: any check after the first one
// within a test is one of the back-to-back first checks.
func hourly(pool string, rise int, members ...Member) *Source {
	s := source(pool, members...)
	s.Interval = caddy.Duration(time.Hour)
	s.Rise = rise
	return s
}

// TestFirstRiseChecksBackToBack: a new upstream runs its first rise checks
// back to back, so a request at start is served at once although the
// interval is an hour; then the checks follow the interval.
func TestFirstRiseChecksBackToBack(t *testing.T) {
	b := newBackend(t, true)
	s := provision(t, hourly(t.Name(), 3, Member{Dial: b.addr()}))
	defer s.Cleanup()
	start := time.Now()
	if got := dials(t, s); len(got) != 1 || got[0] != b.addr() {
		t.Fatalf("first request: got %v, want %s", got, b.addr())
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("first request waited %s", took)
	}
	st := s.members[0].st.status()
	if st.State != stateUp || st.Checks != 3 || st.Passes != 3 {
		t.Errorf("after the first verdict: %+v, want up after exactly 3 checks", st)
	}
	time.Sleep(50 * time.Millisecond)
	if n := b.checks.Load(); n != 3 {
		t.Errorf("%d checks, want 3: after the verdict checks wait the interval", n)
	}
}

// TestFirstVerdictFailing: a backend whose first check fails gives its
// verdict at once: the request gets the sentinel, and no check follows
// before the interval (no back-to-back checks of a failing backend).
func TestFirstVerdictFailing(t *testing.T) {
	sick := newBackend(t, false)
	s := provision(t, hourly(t.Name(), 2, Member{Dial: sick.addr()}))
	defer s.Cleanup()
	if got := dials(t, s); len(got) != 1 || !strings.HasPrefix(got[0], "no-healthy-upstream-in-pool-") {
		t.Fatalf("got %v, want the sentinel", got)
	}
	time.Sleep(50 * time.Millisecond)
	if n := sick.checks.Load(); n != 1 {
		t.Errorf("%d checks of the failing backend, want 1", n)
	}
	if st := s.members[0].st.status(); st.State != stateGated || st.LastError != "status 503" {
		t.Errorf("%+v", st)
	}
}

// TestVerdictWaitBounded: a request waits for the first verdict at most
// lb_try_duration, here while the check hangs for its 2 s timeout.
func TestVerdictWaitBounded(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	src := hourly(t.Name(), 2, Member{Dial: strings.TrimPrefix(slow.URL, "http://")})
	src.Timeout = caddy.Duration(2 * time.Second)
	src.proxy = &reverseproxy.Handler{LoadBalancing: &reverseproxy.LoadBalancing{TryDuration: caddy.Duration(150 * time.Millisecond)}}
	s := provision(t, src)
	defer s.Cleanup()
	start := time.Now()
	got := dials(t, s)
	took := time.Since(start)
	if len(got) != 1 || !strings.HasPrefix(got[0], "no-healthy-upstream-in-pool-") {
		t.Fatalf("got %v, want the sentinel", got)
	}
	if took < 150*time.Millisecond || took > 1500*time.Millisecond {
		t.Errorf("waited %s, want about lb_try_duration (150ms)", took)
	}
	if s.verdictWait != 150*time.Millisecond {
		t.Errorf("verdictWait %s", s.verdictWait)
	}
	// Without lb_try_duration, the bound is rise × timeout.
	if d := verdictWait(nil, &checkConfig{rise: 3, timeout: time.Second}); d != 3*time.Second {
		t.Errorf("default wait %s, want 3s", d)
	}
}

// TestReloadBurstsOnlyNewUpstreams: a reload that adds an upstream runs
// the new one's first checks back to back and leaves the kept one's state
// and pace alone.
func TestReloadBurstsOnlyNewUpstreams(t *testing.T) {
	kept, added := newBackend(t, true), newBackend(t, true)
	old := provision(t, hourly(t.Name(), 2, Member{Dial: kept.addr()}))
	if got := dials(t, old); len(got) != 1 || got[0] != kept.addr() {
		t.Fatalf("before reload: %v", got)
	}
	cur := provision(t, hourly(t.Name(), 2, Member{Dial: kept.addr()}, Member{Dial: added.addr()}))
	old.Cleanup()
	defer cur.Cleanup()
	waitFor(t, "added upstream up", cur.members[1].st.serving.Load)
	if n := added.checks.Load(); n != 2 {
		t.Errorf("added upstream: %d checks, want rise (2) back to back", n)
	}
	if n := kept.checks.Load(); n != 2 {
		t.Errorf("kept upstream: %d checks, want its first 2 only (no re-gating)", n)
	}
	if cur.members[0].st.pending.Load() {
		t.Error("kept upstream pending again after the reload")
	}
}

// TestVerdictWakesOnCleanup: a request waiting for a pool whose config is
// cleaned up is not left waiting for the bound.
func TestVerdictWakesOnCleanup(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	src := hourly(t.Name(), 2, Member{Dial: strings.TrimPrefix(slow.URL, "http://")})
	src.Timeout = caddy.Duration(time.Minute)
	s := provision(t, src)
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		dials(t, s)
		done <- time.Since(start)
	}()
	time.Sleep(50 * time.Millisecond)
	s.Cleanup()
	select {
	case took := <-done:
		t.Logf("woken after %s", took)
	case <-time.After(5 * time.Second):
		t.Fatal("request still waiting 5 s after the pool went away")
	}
}

// TestBackupWaitsForPendingPrimary: at start, a backup proven healthy
// before the primaries does not take their requests: a request waits for
// the pending primary's verdict (found by make run-loadbalance, whose
// backup answered the first request).
func TestBackupWaitsForPendingPrimary(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond) // the primary's checks answer late
		w.Write([]byte(`{"status":"healthy"}`))
	}))
	defer slow.Close()
	backup := newBackend(t, true)
	s := hourly(t.Name(), 2, Member{Dial: strings.TrimPrefix(slow.URL, "http://")}, Member{Dial: backup.addr(), Backup: true})
	s.Timeout = caddy.Duration(time.Second)
	s = provision(t, s)
	defer s.Cleanup()
	// Let the backup's verdict come first.
	for deadline := time.Now().Add(2 * time.Second); backup.checks.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if got := dials(t, s); len(got) != 1 || got[0] != strings.TrimPrefix(slow.URL, "http://") {
		t.Fatalf("first request went to %v, want the primary once its first checks pass", got)
	}
}
