// Package stats is where Frontdesk's modules publish what the dashboard
// shows, so that the dashboard reads every module without importing any:
// each module registers, from its init function, a Provider for its
// section (its admin API's own answer) and the hooks the dashboard's site
// map and purge form need. The counters a module keeps on its request path
// (Requests, Latency, TopK, Ring) live here too: lock-free or bounded, so
// that they cost next to nothing per request.
package stats

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Sampled is a 1-in-N sampler for the figures a request path feeds only
// now and then: Take is one atomic add. The zero value takes nothing;
// make one with NewSampled.
type Sampled struct {
	every uint64
	n     atomic.Uint64
}

// NewSampled returns a sampler that takes one call in every.
func NewSampled(every uint64) *Sampled { return &Sampled{every: max(1, every)} }

// Take reports whether this call is sampled.
func (s *Sampled) Take() bool { return s.Of(s.n.Add(1)) }

// Of reports whether the nth call (from 1) of a stream that is numbered
// elsewhere (Ring.Add) is sampled; it leaves Take's count alone.
func (s *Sampled) Of(n uint64) bool { return s.every != 0 && n%s.every == 0 }

// Weight is how many calls each sample stands for.
func (s *Sampled) Weight() uint64 { return s.every }

// Section names of the dashboard's data: one per module that provides one.
const (
	SectionUpstreams = "upstreams" // healthgate pools and upstreams
	SectionDNS       = "dns"       // the dnsmasq app
	SectionCache     = "cache"     // proxy_cache zones
)

// Provider returns a section's current figures, ready for JSON. It is
// called on every dashboard poll, so it must be cheap and safe to call
// from any goroutine; nil means the module has nothing live to show.
type Provider func() any

var registry = struct {
	sync.RWMutex
	providers map[string]Provider
	purger    Purger
	resolver  NameResolver
}{providers: map[string]Provider{}}

// Register sets the provider of a section. Modules call it from init; a
// second call for one section replaces the first.
func Register(section string, p Provider) {
	registry.Lock()
	defer registry.Unlock()
	registry.providers[section] = p
}

// Snapshot calls every provider and returns their answers by section.
// Sections whose provider returns nil are left out.
func Snapshot() map[string]any {
	registry.RLock()
	names := make([]string, 0, len(registry.providers))
	for n := range registry.providers {
		names = append(names, n)
	}
	ps := make([]Provider, len(names))
	sort.Strings(names)
	for i, n := range names {
		ps[i] = registry.providers[n]
	}
	registry.RUnlock()
	out := make(map[string]any, len(names))
	for i, n := range names {
		if v := ps[i](); v != nil {
			out[n] = v
		}
	}
	return out
}
