package proxycache

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/promreg"

	"github.com/prometheus/client_golang/prometheus"

	fdstats "github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// zoneStats counts what the cache did, per zone, for the life of the
// process (across config reloads).
type zoneStats struct {
	byIndex   [len(statusLabelArray)]atomic.Int64 // the statusLabels, without a lookup
	byLabel   sync.Map                            // any other label -> *atomic.Int64
	stored    atomic.Int64
	topKeys   *fdstats.TopK[string] // most hit keys (dashboard.go)
	hitSample *fdstats.Sampled      // which hits topKeys counts
}

// statusLabelArray are the X-Cache-Status values, in labelIndex order.
var statusLabelArray = [...]string{labelHit, labelMiss, labelExpired, labelStale, labelUpdating, labelRevalidated, labelBypass}

// labelIndex is label's index in statusLabelArray, or -1.
func labelIndex(label string) int {
	switch label {
	case labelHit:
		return 0
	case labelMiss:
		return 1
	case labelExpired:
		return 2
	case labelStale:
		return 3
	case labelUpdating:
		return 4
	case labelRevalidated:
		return 5
	case labelBypass:
		return 6
	}
	return -1
}

func (z *zoneStats) count(label string) {
	if label == "" {
		return
	}
	if i := labelIndex(label); i >= 0 {
		z.byIndex[i].Add(1)
		return
	}
	v, ok := z.byLabel.Load(label)
	if !ok {
		v, _ = z.byLabel.LoadOrStore(label, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

func (z *zoneStats) get(label string) int64 {
	if i := labelIndex(label); i >= 0 {
		return z.byIndex[i].Load()
	}
	if v, ok := z.byLabel.Load(label); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// zone is a storage in use by at least one handler of a live config.
type zone struct {
	stats    *zoneStats
	storages map[*Handler]Storage // by the handlers using it
}

// registry tracks the live zones, so the admin API and metrics find them.
var registry = struct {
	sync.Mutex
	zones map[string]*zone
	stats map[string]*zoneStats
}{zones: map[string]*zone{}, stats: map[string]*zoneStats{}}

// register records that h uses its zone and returns the zone's counters.
func register(h *Handler) *zoneStats {
	registry.Lock()
	defer registry.Unlock()
	st := registry.stats[h.zone]
	if st == nil {
		st = &zoneStats{topKeys: fdstats.NewTopK(topKeysTracked), hitSample: fdstats.NewSampled(topKeysSample)}
		registry.stats[h.zone] = st
	}
	z := registry.zones[h.zone]
	if z == nil {
		z = &zone{stats: st, storages: map[*Handler]Storage{}}
		registry.zones[h.zone] = z
	}
	z.storages[h] = h.storage
	return st
}

func unregister(h *Handler) {
	registry.Lock()
	defer registry.Unlock()
	if z := registry.zones[h.zone]; z != nil {
		delete(z.storages, h)
		if len(z.storages) == 0 {
			delete(registry.zones, h.zone)
		}
	}
}

// liveZones returns the live zones' names and one storage of each, sorted.
func liveZones() (names []string, storages []Storage, stats []*zoneStats) {
	registry.Lock()
	defer registry.Unlock()
	for n := range registry.zones {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		z := registry.zones[n]
		var s Storage
		for _, st := range z.storages {
			s = st
			break
		}
		storages = append(storages, s)
		stats = append(stats, z.stats)
	}
	return names, storages, stats
}

// sizer is implemented by storages that know how much they hold.
type sizer interface {
	Stats() (keys int, bytes int64)
}

// statusLabels are the X-Cache-Status values counted.
var statusLabels = statusLabelArray[:]

// collector exports the zones' counts to Prometheus at scrape time.
type collector struct{}

var (
	requestsDesc = prometheus.NewDesc("frontdesk_proxy_cache_requests_total",
		"Requests handled by proxy_cache, by zone and cache status (nginx's $upstream_cache_status).", []string{"zone", "status"}, nil)
	storedDesc = prometheus.NewDesc("frontdesk_proxy_cache_stored_total",
		"Responses stored, by zone.", []string{"zone"}, nil)
	objectsDesc = prometheus.NewDesc("frontdesk_proxy_cache_objects",
		"Keys held, by zone (memory and disk storages).", []string{"zone"}, nil)
	bytesDesc = prometheus.NewDesc("frontdesk_proxy_cache_bytes",
		"Bytes held, by zone (memory and disk storages).", []string{"zone"}, nil)
	maxBytesDesc = prometheus.NewDesc("frontdesk_proxy_cache_max_bytes",
		"The storage's max_size, by zone (memory and disk storages).", []string{"zone"}, nil)
	storageErrorsDesc = prometheus.NewDesc("frontdesk_proxy_cache_storage_errors_total",
		"Storage operations that failed, by zone and op (get, put, purge, evict; disk and redis storages).", []string{"zone", "op"}, nil)
	theCollector = collector{}
)

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- requestsDesc
	ch <- storedDesc
	ch <- objectsDesc
	ch <- bytesDesc
	ch <- maxBytesDesc
	ch <- storageErrorsDesc
}

func (collector) Collect(ch chan<- prometheus.Metric) {
	names, storages, stats := liveZones()
	for i, n := range names {
		for _, l := range statusLabels {
			ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, float64(stats[i].get(l)), n, l)
		}
		ch <- prometheus.MustNewConstMetric(storedDesc, prometheus.CounterValue, float64(stats[i].stored.Load()), n)
		if s, ok := storages[i].(sizer); ok {
			keys, bytes := s.Stats()
			ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(keys), n)
			ch <- prometheus.MustNewConstMetric(bytesDesc, prometheus.GaugeValue, float64(bytes), n)
		}
		if max := maxBytesOf(storages[i]); max > 0 {
			ch <- prometheus.MustNewConstMetric(maxBytesDesc, prometheus.GaugeValue, float64(max), n)
		}
		if f, ok := storages[i].(faultReporter); ok {
			z := f.storageFaults()
			for op := range numStorageOps {
				ch <- prometheus.MustNewConstMetric(storageErrorsDesc, prometheus.CounterValue, float64(z.errors[op].Load()), n, op.String())
			}
		}
	}
}

// registerMetrics adds the collector to a config's registry, tolerating an
// earlier registration.
func registerMetrics(reg *prometheus.Registry) error {
	return promreg.Register(reg, theCollector)
}
