package stats

import "sync/atomic"

// watchers counts the loaded dashboards. The figures that cost more than an
// atomic add on a request path (top-K lists, the query log) are gathered
// only while one is loaded: without a dashboard they cost one atomic load.
var watchers atomic.Int64

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

// Watched reports whether a dashboard is loaded.
func Watched() bool { return watchers.Load() > 0 }
