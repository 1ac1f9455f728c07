package proxycache

import (
	"sync"
	"time"
)

// flights tracks origin requests in progress, per zone and key: the lock's
// leaders and the background (or use_stale updating) refreshes. It is
// process-wide, so it spans config reloads like the storage does.
type flights struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

var (
	lockFlights   = &flights{m: map[string]chan struct{}{}}
	updateFlights = &flights{m: map[string]chan struct{}{}}
)

// join returns (true, release) when the caller leads the flight for id, or
// (false, done) with the channel closed when the leader finishes.
func (fl *flights) join(id string) (leader bool, ch chan struct{}, release func()) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if ch, ok := fl.m[id]; ok {
		return false, ch, nil
	}
	ch = make(chan struct{})
	fl.m[id] = ch
	return true, ch, func() {
		fl.mu.Lock()
		if fl.m[id] == ch {
			delete(fl.m, id)
		}
		fl.mu.Unlock()
		close(ch)
	}
}

// busy reports whether a flight for id is in progress.
func (fl *flights) busy(id string) bool {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	_, ok := fl.m[id]
	return ok
}

// useCounter counts requests per key for min_uses.
type useCounter struct {
	mu sync.Mutex
	m  map[string]*uses
}

type uses struct {
	n    int
	last time.Time
}

var useCounts = &useCounter{m: map[string]*uses{}}

// maxUseKeys bounds the counter's memory; when full, entries idle for more
// than a minute are dropped, and failing that all counts restart.
const maxUseKeys = 100000

// hit counts one request for id and reports whether it has now been seen at
// least min times.
func (u *useCounter) hit(id string, min int, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	c := u.m[id]
	if c == nil {
		if len(u.m) >= maxUseKeys {
			for k, v := range u.m {
				if now.Sub(v.last) > time.Minute {
					delete(u.m, k)
				}
			}
			if len(u.m) >= maxUseKeys {
				clear(u.m)
			}
		}
		c = &uses{}
		u.m[id] = c
	}
	c.n++
	c.last = now
	if c.n >= min {
		delete(u.m, id)
		return true
	}
	return false
}
