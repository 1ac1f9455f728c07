package stats

import (
	"sort"
	"sync"
)

// TopK keeps the most frequent keys of a stream in bounded memory, with
// the Space-Saving algorithm (Metwally et al., 2005): it tracks at most
// Capacity keys; a new key takes the place of the least counted one and
// inherits its count as its error. A key seen more than total/Capacity
// times is always among those kept. Add takes a mutex held for a map
// update (or a scan of Capacity entries for a new key when full). Keys
// are of any comparable type, so a caller that has an address need not
// make a string of it per request; they become strings when read.
type TopK[K comparable] struct {
	mu       sync.Mutex
	capacity int
	counts   map[K]*topEntry
	label    func(K) string // the key as Top shows it
}

type topEntry struct {
	count, err uint64
}

// Top is one key of a TopK and its count (an upper bound, within Error of
// the true count).
type Top struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
	// Error is how much of Count may belong to keys it replaced.
	Error uint64 `json:"error,omitempty"`
}

// NewTopK returns a TopK of strings that tracks at most capacity keys.
func NewTopK(capacity int) *TopK[string] {
	return NewTopKOf(capacity, func(s string) string { return s })
}

// NewTopKOf returns a TopK of keys of type K that tracks at most capacity
// keys; label makes a key's string when the list is read.
func NewTopKOf[K comparable](capacity int, label func(K) string) *TopK[K] {
	return &TopK[K]{capacity: max(1, capacity), counts: make(map[K]*topEntry, capacity), label: label}
}

// Add counts one occurrence of key.
func (t *TopK[K]) Add(key K) { t.AddN(key, 1) }

// AddN counts n occurrences of key (a sampled stream adds each sample with
// the sampling's weight).
func (t *TopK[K]) AddN(key K, n uint64) {
	t.mu.Lock()
	if e, ok := t.counts[key]; ok {
		e.count += n
		t.mu.Unlock() // no defer: this is the path of every sample but a new key's
		return
	}
	defer t.mu.Unlock()
	if len(t.counts) < t.capacity {
		t.counts[key] = &topEntry{count: n}
		return
	}
	var minKey K
	var minE *topEntry
	for k, e := range t.counts {
		if minE == nil || e.count < minE.count {
			minKey, minE = k, e
		}
	}
	delete(t.counts, minKey)
	minE.err = minE.count
	minE.count += n
	t.counts[key] = minE
}

// Top returns the n most counted keys, most first (ties by key).
func (t *TopK[K]) Top(n int) []Top {
	t.mu.Lock()
	type counted struct {
		key K
		topEntry
	}
	all := make([]counted, 0, len(t.counts))
	for k, e := range t.counts {
		all = append(all, counted{k, *e})
	}
	t.mu.Unlock()
	out := make([]Top, len(all))
	for i, c := range all {
		out[i] = Top{Key: t.label(c.key), Count: c.count, Error: c.err}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Reset forgets every key.
func (t *TopK[K]) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.counts)
}
