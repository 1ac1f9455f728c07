package dnsmasq

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// dnsMetrics are the app's Prometheus collectors.
type dnsMetrics struct {
	queries          *prometheus.CounterVec
	cache            *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	upstreamFailures *prometheus.CounterVec
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

func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{metrics.queries, metrics.cache, metrics.upstreamDuration, metrics.upstreamFailures} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}
