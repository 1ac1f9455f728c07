package proxycache

import (
	"sync"
	"time"
)

// flights tracks origin requests in progress, per zone and key: the
// background (or use_stale updating) refreshes. It is process-wide, so it
// spans config reloads like the storage does.
type flights struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

var updateFlights = &flights{m: map[string]chan struct{}{}}

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

// locks are the proxy_cache locks in progress, per zone and key. Like
// flights, they are process-wide.
var locks = &lockTable{m: map[string]*cacheLock{}}

// lockTable holds nginx's proxy_cache_lock state: the requests at the
// origin for a key (its holders) and the requests waiting for them.
type lockTable struct {
	mu sync.Mutex
	m  map[string]*cacheLock
}

// cacheLock is one key's lock. holders counts the requests that took it
// (the first, and one more each time lock_age passes); until is when the
// latest of them has held it for lock_age; wake is closed, and replaced,
// whenever a holder finishes.
type cacheLock struct {
	holders int
	until   time.Time
	wake    chan struct{}
}

// lockWait is a waiter's view of a lock.
type lockWait struct {
	wake  <-chan struct{} // closed when a holder finishes
	until time.Time       // when the lock may be taken over
}

// acquire takes the lock for id when nobody holds it, or when its latest
// holder has had it for age (nginx's proxy_cache_lock_age): then ok is true
// and release must be called when the origin exchange is over. Otherwise
// it returns what to wait for. A waiter passes the wake channel it waited
// on as seen: when a holder has finished since, it gets that (closed)
// channel back instead of the lock, so that it looks in the cache first.
func (lt *lockTable) acquire(id string, age time.Duration, now time.Time, seen <-chan struct{}) (ok bool, w lockWait, release func()) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	l := lt.m[id]
	if seen != nil && (l == nil || l.wake != seen) {
		return false, lockWait{wake: seen, until: now.Add(age)}, nil
	}
	if l == nil {
		l = &cacheLock{wake: make(chan struct{})}
		lt.m[id] = l
	} else if now.Before(l.until) {
		return false, lockWait{wake: l.wake, until: l.until}, nil
	}
	l.holders++
	l.until = now.Add(age)
	return true, lockWait{}, func() { lt.release(id, l) }
}

// release ends one holder's exchange and wakes the waiters.
func (lt *lockTable) release(id string, l *cacheLock) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	l.holders--
	close(l.wake)
	if l.holders == 0 {
		if lt.m[id] == l {
			delete(lt.m, id)
		}
		return
	}
	l.wake = make(chan struct{})
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
