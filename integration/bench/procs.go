package main

import (
	"sync"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// procs remembers every process the benchmark starts so that they are all
// stopped, by PID, at the end and on Ctrl-C. It is a small helper of this
// package, not of the harness.
type procs struct {
	mu      sync.Mutex
	list    []*harness.Process
	stopped bool
	once    sync.Once
	done    chan struct{} // closed when stopAll has stopped everything
}

// add registers p. After stopAll has begun, p is stopped at once instead.
func (ps *procs) add(p *harness.Process) {
	ps.mu.Lock()
	if ps.stopped {
		ps.mu.Unlock()
		p.Stop()
		return
	}
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
}

// stopAll stops every registered process, the last started first, and
// returns when they have all exited. It is safe to call more than once and
// from several goroutines: later calls wait for the first one.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	if ps.done == nil {
		ps.done = make(chan struct{})
	}
	done := ps.done
	ps.mu.Unlock()
	ps.once.Do(func() {
		ps.mu.Lock()
		list := ps.list
		ps.list, ps.stopped = nil, true
		ps.mu.Unlock()
		for i := len(list) - 1; i >= 0; i-- {
			list[i].Stop()
		}
		close(done)
	})
	<-done
}

// ids returns the PIDs, which are also the process groups, of the registered
// processes.
func (ps *procs) ids() map[int]bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ids := make(map[int]bool, len(ps.list))
	for _, p := range ps.list {
		ids[p.PID()] = true
	}
	return ids
}

// last returns the process registered last, or nil.
func (ps *procs) last() *harness.Process {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.list) == 0 {
		return nil
	}
	return ps.list[len(ps.list)-1]
}
