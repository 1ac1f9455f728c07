package stats

import (
	"sync"
	"sync/atomic"
)

// Ring holds the last N values added, in bounded memory: the oldest is
// overwritten. Add claims a slot with one atomic add and locks that slot
// alone, so Adds on several cores do not wait for one another.
type Ring[T any] struct {
	added atomic.Uint64 // values added over the ring's life
	_     [64]byte      // keeps added, written by every Add, off slots' line
	slots []ringSlot[T]
}

// ringSlot is one value of a Ring and its place in the stream.
type ringSlot[T any] struct {
	mu  sync.Mutex
	seq uint64 // the value's number (1 for the first value added); 0: none yet
	v   T
}

// NewRing returns a ring of size slots.
func NewRing[T any](size int) *Ring[T] {
	return &Ring[T]{slots: make([]ringSlot[T], max(1, size))}
}

// Add stores v over the oldest value and returns v's number: 1 for the
// first value added, then 2, 3, ... (a sampler can take every Nth).
func (r *Ring[T]) Add(v T) uint64 {
	n := r.added.Add(1)
	s := &r.slots[(n-1)%uint64(len(r.slots))]
	s.mu.Lock()
	if s.seq < n { // an Add a whole lap behind must not overwrite a newer value
		s.seq, s.v = n, v
	}
	s.mu.Unlock()
	return n
}

// Last returns up to n values, newest first, and how many were ever added.
// A value whose Add is still under way is left out.
func (r *Ring[T]) Last(n int) ([]T, uint64) {
	added := r.added.Load()
	size := uint64(len(r.slots))
	n = min(n, int(min(added, size)))
	out := make([]T, 0, n)
	for seq := added; seq > added-uint64(n); seq-- {
		s := &r.slots[(seq-1)%size]
		s.mu.Lock()
		if s.seq == seq {
			out = append(out, s.v)
		}
		s.mu.Unlock()
	}
	return out, added
}
