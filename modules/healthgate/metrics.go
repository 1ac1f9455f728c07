package healthgate

import (
	"sort"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/promreg"

	"github.com/prometheus/client_golang/prometheus"
)

// gateMetrics are healthgate's Prometheus collectors.
type gateMetrics struct {
	state    *prometheus.GaugeVec
	checks   *prometheus.CounterVec
	failures *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	downs    *prometheus.CounterVec
	live     *prometheus.CounterVec
}

// metrics are created once per process and registered into each config's
// registry, so series survive config reloads like the health state does.
var metrics = &gateMetrics{
	state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "frontdesk", Subsystem: "healthgate", Name: "upstream_serving",
		Help: "1 while the upstream takes new requests (healthy, not drained or forced down), else 0.",
	}, []string{"pool", "upstream"}),
	checks: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "frontdesk", Subsystem: "healthgate", Name: "checks_total",
		Help: "Active health checks run, by pool and upstream.",
	}, []string{"pool", "upstream"}),
	failures: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "frontdesk", Subsystem: "healthgate", Name: "check_failures_total",
		Help: "Failed active health checks, by pool, upstream and reason (refused, timeout, status, body, json, error).",
	}, []string{"pool", "upstream", "reason"}),
	latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "frontdesk", Subsystem: "healthgate", Name: "check_duration_seconds",
		Help:    "Duration of active health checks, by pool and upstream.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"pool", "upstream"}),
	downs: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "frontdesk", Subsystem: "healthgate", Name: "down_total",
		Help: "Times a healthy upstream was taken out of rotation, by pool, upstream, by (check or traffic) and reason " +
			"(check: refused, timeout, status, body, json, error; traffic: connect, reset, timeout, 5xx).",
	}, []string{"pool", "upstream", "by", "reason"}),
	live: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "frontdesk", Subsystem: "healthgate", Name: "live_errors_total",
		Help: "Live proxied requests that failed on an upstream, by pool, upstream and kind (connect, reset, timeout, 5xx), observed or not.",
	}, []string{"pool", "upstream", "kind"}),
}

func (m *gateMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.state, m.checks, m.failures, m.latency, m.downs, m.live, trafficCollector{}}
}

// registerMetrics adds the collectors to a config's registry, tolerating a
// registry that has them already.
func registerMetrics(reg *prometheus.Registry) error {
	return promreg.Register(reg, metrics.collectors()...)
}

// deleteSeries drops the series of an upstream no config uses any more.
func deleteSeries(pool, dial string) {
	labels := prometheus.Labels{"pool": pool, "upstream": dial}
	metrics.state.Delete(labels)
	metrics.checks.Delete(labels)
	metrics.latency.Delete(labels)
	metrics.failures.DeletePartialMatch(labels)
	metrics.downs.DeletePartialMatch(labels)
	metrics.live.DeletePartialMatch(labels)
}

func sortStatuses(s []Status) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Pool != s[j].Pool {
			return s[i].Pool < s[j].Pool
		}
		if s[i].Role != s[j].Role {
			return s[i].Role > s[j].Role // primary before backup
		}
		return s[i].Upstream < s[j].Upstream
	})
}
