package dnsmasq

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/promreg"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// dnsMetrics are the app's Prometheus collectors.
type dnsMetrics struct {
	queries          *prometheus.CounterVec
	cache            *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	upstreamFailures *prometheus.CounterVec

	// queryCounters caches the children of queries by (type label, rcode,
	// source), so that a query costs no label hashing: a copy-on-write map
	// read without a lock.
	queryCounters atomic.Pointer[map[queryKey]prometheus.Counter]
	queryMu       sync.Mutex
	cacheHit      prometheus.Counter
	cacheMiss     prometheus.Counter
}

// queryKey names one child of queries_total, packed in a word so that a
// query's lookup hashes eight bytes: the query type (keyOther instead for
// the types miekg/dns does not name, which share the label "other", so
// that the map stays bounded), the rcode and the source's index
// (sourceIndex).
type queryKey uint64

// keyOther marks the key of a query type without a name.
const keyOther queryKey = 1 << 48

// knownTypes is the set of query types miekg/dns names (dns.TypeToString),
// one bit each: a query asks it instead of the map.
var knownTypes [1 << 16 / 64]uint64

func init() {
	for t := range dns.TypeToString {
		knownTypes[t/64] |= 1 << (t % 64)
	}
}

// sourceIndex is the key's number of an answer's source; 0 for a source
// without one, counted through the labels every time.
func sourceIndex(src string) queryKey {
	switch answerSource(src) {
	case sourceLocal:
		return 1
	case sourceCache:
		return 2
	case sourceUpstream:
		return 3
	case sourceNone:
		return 4
	}
	return 0
}

// countQuery counts one answered query.
func (d *dnsMetrics) countQuery(qtype uint16, rcode int, src string) {
	si := sourceIndex(src)
	if rcode < 0 || rcode > 0xFFFF || si == 0 {
		d.queries.WithLabelValues(typeLabel(qtype), dns.RcodeToString[rcode], src).Inc()
		return
	}
	k := queryKey(qtype)<<32 | queryKey(rcode)<<16 | si
	if knownTypes[qtype/64]&(1<<(qtype%64)) == 0 {
		k = keyOther | queryKey(rcode)<<16 | si
	}
	if m := d.queryCounters.Load(); m != nil {
		if c, ok := (*m)[k]; ok {
			c.Inc()
			return
		}
	}
	d.newQueryCounter(k, typeLabel(qtype), rcode, src).Inc()
}

// newQueryCounter is the child of queries_total for k, added to the
// copy-on-write map of the children the queries use.
func (d *dnsMetrics) newQueryCounter(k queryKey, qtype string, rcode int, src string) prometheus.Counter {
	d.queryMu.Lock()
	defer d.queryMu.Unlock()
	old := d.queryCounters.Load()
	next := make(map[queryKey]prometheus.Counter, 1)
	if old != nil {
		if c, ok := (*old)[k]; ok {
			return c
		}
		for kk, c := range *old {
			next[kk] = c
		}
	}
	c := d.queries.WithLabelValues(qtype, dns.RcodeToString[rcode], src)
	next[k] = c
	d.queryCounters.Store(&next)
	return c
}

// metrics are created once per process and registered into each config's
// registry, so counts survive config reloads.
var metrics = &dnsMetrics{
	queries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "frontdesk", Subsystem: "dnsmasq", Name: "queries_total",
		Help: "DNS queries answered, by query type, response code and source (local, cache, upstream, none).",
	}, []string{"type", "rcode", "source"}),
	cache: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "frontdesk", Subsystem: "dnsmasq", Name: "cache_lookups_total",
		Help: "Cache lookups for forwarded names, by result (hit, miss).",
	}, []string{"result"}),
	upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "frontdesk", Subsystem: "dnsmasq", Name: "upstream_duration_seconds",
		Help:    "Time to get an answer from an upstream server, by server.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"upstream"}),
	upstreamFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "frontdesk", Subsystem: "dnsmasq", Name: "upstream_failures_total",
		Help: "Upstream exchanges that failed (timeout, refused connection, bad reply), by server.",
	}, []string{"upstream"}),
}

func init() {
	metrics.cacheHit = metrics.cache.WithLabelValues("hit")
	metrics.cacheMiss = metrics.cache.WithLabelValues("miss")
}

func registerMetrics(reg *prometheus.Registry) error {
	return promreg.Register(reg, metrics.queries, metrics.cache, metrics.upstreamDuration, metrics.upstreamFailures, dashCollector{})
}

// observeUpstream counts one exchange with an upstream server: its
// duration, or a failure.
func observeUpstream(server string, took time.Duration, err error) {
	if err != nil {
		metrics.upstreamFailures.WithLabelValues(server).Inc()
		return
	}
	metrics.upstreamDuration.WithLabelValues(server).Observe(took.Seconds())
}
