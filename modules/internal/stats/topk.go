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
// update (or a scan of Capacity entries for a new key when full).
type TopK struct {
	mu       sync.Mutex
	capacity int
	counts   map[string]*topEntry
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

// NewTopK returns a TopK that tracks at most capacity keys.
func NewTopK(capacity int) *TopK {
	return &TopK{capacity: max(1, capacity), counts: make(map[string]*topEntry, capacity)}
}

// Add counts one occurrence of key.
func (t *TopK) Add(key string) { t.AddN(key, 1) }

// AddN counts n occurrences of key (a sampled stream adds each sample with
// the sampling's weight).
func (t *TopK) AddN(key string, n uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.counts[key]; ok {
		e.count += n
		return
	}
	if len(t.counts) < t.capacity {
		t.counts[key] = &topEntry{count: n}
		return
	}
	var minKey string
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
func (t *TopK) Top(n int) []Top {
	t.mu.Lock()
	out := make([]Top, 0, len(t.counts))
	for k, e := range t.counts {
		out = append(out, Top{Key: k, Count: e.count, Error: e.err})
	}
	t.mu.Unlock()
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
func (t *TopK) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.counts)
}
