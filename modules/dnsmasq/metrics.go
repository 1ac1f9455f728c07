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

// queryKey names one child of queries_total. Unknown query types share
// one key (label "other"), so the map stays bounded.
type queryKey struct {
	qtype uint16
	other bool
	rcode uint16
	src   string
}

// countQuery counts one answered query.
func (d *dnsMetrics) countQuery(qtype uint16, rcode int, src string) {
	k := queryKey{qtype: qtype, rcode: uint16(rcode), src: src}
	if _, ok := dns.TypeToString[qtype]; !ok {
		k.qtype, k.other = 0, true
	}
	if rcode < 0 || rcode > 0xFFFF {
		d.queries.WithLabelValues(typeLabel(qtype), dns.RcodeToString[rcode], src).Inc()
		return
	}
	if m := d.queryCounters.Load(); m != nil {
		if c, ok := (*m)[k]; ok {
			c.Inc()
			return
		}
	}
	d.queryMu.Lock()
	defer d.queryMu.Unlock()
	old := d.queryCounters.Load()
	next := make(map[queryKey]prometheus.Counter, 1)
	if old != nil {
		if c, ok := (*old)[k]; ok {
			c.Inc()
			return
		}
		for kk, c := range *old {
			next[kk] = c
		}
	}
	c := d.queries.WithLabelValues(typeLabel(qtype), dns.RcodeToString[rcode], src)
	next[k] = c
	d.queryCounters.Store(&next)
	c.Inc()
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
