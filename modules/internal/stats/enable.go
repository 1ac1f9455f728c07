package stats

import (
	"sync"
	"sync/atomic"
	"time"
)

// The figures that cost more than an atomic add on a request path (top-K
// lists, the query log) are gathered only while a dashboard is loaded or
// polled. Watched is one atomic load either way: a poll's end is a timer,
// not a clock read per request.
var watch struct {
	mu     sync.Mutex
	loaded int         // dashboards loaded (Watch)
	until  time.Time   // when the last poll's watch ends (WatchFor)
	expiry *time.Timer // runs expirePoll at until
	on     atomic.Bool // what Watched reports
}

// Watch says that a dashboard is loaded, until the returned function is
// called (once). A config reload provisions the new dashboard before it
// cleans up the old one, so collection does not stop across it.
func Watch() (stop func()) {
	addLoaded(1)
	var once sync.Once
	return func() { once.Do(func() { addLoaded(-1) }) }
}

// addLoaded counts n more loaded dashboards (n is 1 or -1).
func addLoaded(n int) {
	watch.mu.Lock()
	defer watch.mu.Unlock()
	watch.loaded += n
	updateWatched()
}

// WatchFor says that a dashboard was polled: the figures are gathered for
// d from now (the admin API's dashboard, which is not loaded with a
// config, calls it on every poll).
func WatchFor(d time.Duration) {
	watch.mu.Lock()
	defer watch.mu.Unlock()
	watch.until = time.Now().Add(d)
	if watch.expiry == nil {
		watch.expiry = time.AfterFunc(d, expirePoll)
	} else {
		watch.expiry.Reset(d)
	}
	updateWatched()
}

// expirePoll ends a poll's watch, or waits on when a later poll moved its
// end.
func expirePoll() {
	watch.mu.Lock()
	defer watch.mu.Unlock()
	if left := time.Until(watch.until); left > 0 {
		watch.expiry.Reset(left)
	}
	updateWatched()
}

// updateWatched sets what Watched reports, and runs the coarse clock
// while it is true. The caller holds watch.mu.
func updateWatched() {
	on := watch.loaded > 0 || time.Now().Before(watch.until)
	if on == watch.on.Load() {
		return
	}
	watch.on.Store(on)
	if on {
		startClock()
	} else {
		stopClock()
	}
}

// Watched reports whether a dashboard is loaded or was polled recently.
func Watched() bool { return watch.on.Load() }
