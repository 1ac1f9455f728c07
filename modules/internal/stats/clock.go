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

// Stamp is a time as CoarseNow reads it, in Unix nanoseconds: 8 bytes to
// keep per request, made a time.Time only when read.
type Stamp int64

// Time is s as a time.Time.
func (s Stamp) Time() time.Time { return time.Unix(0, int64(s)) }

// CoarseNow is the time to within coarseTick, for figures that show
// seconds (the query log): while a dashboard is watched, one atomic load
// instead of a clock read; otherwise time.Now.
func CoarseNow() Stamp {
	if ns := coarse.now.Load(); ns != 0 {
		return Stamp(ns)
	}
	return Stamp(time.Now().UnixNano())
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
