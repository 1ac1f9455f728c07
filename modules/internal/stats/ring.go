package stats

import "sync"

// Ring holds the last N values added, in bounded memory: the oldest is
// overwritten. Add (or Put and Done) takes a mutex for one slot write.
type Ring[T any] struct {
	mu    sync.Mutex
	items []T
	next  int    // slot of the next Add
	added uint64 // values added over the ring's life
}

// NewRing returns a ring of size slots.
func NewRing[T any](size int) *Ring[T] {
	return &Ring[T]{items: make([]T, max(1, size))}
}

// Add stores v over the oldest value and returns v's number: 1 for the
// first value added, then 2, 3, ... (a sampler can take every Nth).
func (r *Ring[T]) Add(v T) uint64 {
	slot, n := r.Put()
	*slot = v
	r.Done()
	return n
}

// Put locks the ring and returns the slot of the next value, over the
// oldest, and its number as Add gives it. The caller fills the slot in
// place, and only it, then calls Done: a large value is written once
// instead of made and copied.
func (r *Ring[T]) Put() (slot *T, n uint64) {
	r.mu.Lock()
	slot = &r.items[r.next]
	if r.next++; r.next == len(r.items) {
		r.next = 0
	}
	r.added++
	return slot, r.added
}

// Done unlocks the ring after Put.
func (r *Ring[T]) Done() { r.mu.Unlock() }

// Last returns up to n values, newest first, and how many were ever added.
func (r *Ring[T]) Last(n int) ([]T, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	have := int(min(r.added, uint64(len(r.items))))
	n = min(n, have)
	out := make([]T, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.items[(r.next-i+len(r.items))%len(r.items)])
	}
	return out, r.added
}
