package healthgate

import (
	"net/http"
	"sync"
	"time"
)

// A new upstream starts gated and pending: it has no verdict yet. Its
// checker runs the first rise checks back to back (see nextCheck), so a
// healthy upstream is proven within a few milliseconds instead of rise ×
// interval. The first verdict is the check that brings it up or the first
// check that fails; after it, checks follow the interval. A request that
// finds nothing serving while some upstream of its pool is still pending
// waits for a verdict instead of failing at once (see awaitVerdict).
// States kept across a reload are not pending again.

// verdicts wakes the requests waiting for a first verdict: each verdict
// closes the current channel and installs a new one. Verdicts come only
// when upstreams are added, so waking every waiter of every pool is cheap.
var verdicts = struct {
	mu sync.Mutex
	ch chan struct{}
}{ch: make(chan struct{})}

// verdictSignal is closed at the next first verdict of any upstream.
func verdictSignal() <-chan struct{} {
	verdicts.mu.Lock()
	defer verdicts.mu.Unlock()
	return verdicts.ch
}

// settleVerdict ends the pending state, once, and wakes the waiters.
func (s *upstreamState) settleVerdict() {
	if !s.pending.CompareAndSwap(true, false) {
		return
	}
	verdicts.mu.Lock()
	close(verdicts.ch)
	verdicts.ch = make(chan struct{})
	verdicts.mu.Unlock()
}

// anyPending reports whether an upstream that could serve has no verdict
// yet.
func (s *Source) anyPending() bool {
	for _, m := range s.members {
		if !m.down && m.st.pending.Load() {
			return true
		}
	}
	return false
}

// awaitVerdict blocks, while nothing serves and some upstream is pending,
// until an upstream serves, every upstream has a verdict, the wait bound
// (lb_try_duration, or rise × timeout) passes or the client goes away.
func (s *Source) awaitVerdict(r *http.Request) {
	if !s.anyPending() {
		return
	}
	timer := time.NewTimer(s.verdictWait)
	defer timer.Stop()
	for {
		signal := verdictSignal() // taken before the check: no missed wake-up
		if n, _ := s.servingWeight(); n > 0 || !s.anyPending() {
			return
		}
		select {
		case <-signal:
		case <-timer.C:
			return
		case <-r.Context().Done():
			return
		}
	}
}
