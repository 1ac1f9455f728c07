package stats

import (
	"sync/atomic"
	"time"
)

// The figures that cost more than an atomic add on a request path (top-K
// lists, the query log) are gathered only while a dashboard is loaded or
// polled: without one they cost two atomic loads.
var (
	watchers  atomic.Int64 // loaded dashboards
	pollUntil atomic.Int64 // unix nanoseconds; 0: never polled
)

// Watch says that a dashboard is loaded, until the returned function is
// called (once). A config reload provisions the new dashboard before it
// cleans up the old one, so collection does not stop across it.
func Watch() (stop func()) {
	watchers.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			watchers.Add(-1)
		}
	}
}

// WatchFor says that a dashboard was polled: the figures are gathered for
// d from now (the admin API's dashboard, which is not loaded with a
// config, calls it on every poll).
func WatchFor(d time.Duration) {
	pollUntil.Store(time.Now().Add(d).UnixNano())
}

// Watched reports whether a dashboard is loaded or was polled recently.
func Watched() bool {
	if watchers.Load() > 0 {
		return true
	}
	until := pollUntil.Load()
	return until != 0 && time.Now().UnixNano() < until
}
