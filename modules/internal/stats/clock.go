package stats

import (
	"sync/atomic"
	"time"
)

// coarseTick is the resolution of CoarseNow.
const coarseTick = 50 * time.Millisecond

// coarse is the clock behind CoarseNow. Its ticker goroutine runs only
// while a dashboard is watched (updateWatched starts and stops it), the
// only time the figures that read it are gathered.
var coarse struct {
	now  atomic.Int64  // unix nanoseconds; 0 while the clock is stopped
	stop chan struct{} // closed to stop the running goroutine; guarded by watch.mu
}

// CoarseNow is the time to within coarseTick, for figures that show
// seconds (the query log): while a dashboard is watched, one atomic load
// instead of a clock read; otherwise time.Now.
func CoarseNow() time.Time {
	if ns := coarse.now.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Now()
}

// startClock starts the coarse clock. The caller holds watch.mu.
func startClock() {
	coarse.stop = make(chan struct{})
	coarse.now.Store(time.Now().UnixNano())
	go runClock(coarse.stop)
}

// stopClock stops the coarse clock. The caller holds watch.mu.
func stopClock() {
	close(coarse.stop)
	coarse.stop = nil
}

// runClock ticks the coarse clock until stop is closed. Only it clears
// the clock, once it ticks no more; a clock started again meanwhile may
// read time.Now until its first tick.
func runClock(stop <-chan struct{}) {
	t := time.NewTicker(coarseTick)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			coarse.now.Store(now.UnixNano())
		case <-stop:
			coarse.now.Store(0)
			return
		}
	}
}
