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
// finds nothing serving, or only backups, while some upstream of its pool
// that would come first is still pending waits for a verdict instead of
// failing at once or going to a backup (see awaitVerdict).
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

// anyPending reports whether an upstream that could serve (only a
// primary, with primaries) has no verdict yet.
func (s *Source) anyPending(primaries bool) bool {
	for _, m := range s.members {
		if !m.down && (!primaries || !m.backup) && m.st.pending.Load() {
			return true
		}
	}
	return false
}

// mustWait reports whether a request is to wait for a first verdict: no
// primary serves and one may still come up (backups stand in only for
// primaries proven down, not for primaries not checked yet), or nothing
// serves and something may.
func (s *Source) mustWait() bool {
	n, backup := s.servingWeight()
	switch {
	case n > 0 && !backup:
		return false
	case s.anyPending(true):
		return true
	case n > 0:
		return false
	}
	return s.anyPending(false)
}

// awaitVerdict blocks while mustWait, until a verdict changes that, the
// wait bound (lb_try_duration, or rise × timeout) passes or the client
// goes away.
func (s *Source) awaitVerdict(r *http.Request) {
	if !s.mustWait() {
		return
	}
	timer := time.NewTimer(s.verdictWait)
	defer timer.Stop()
	for {
		signal := verdictSignal() // taken before the check: no missed wake-up
		if !s.mustWait() {
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
