package healthgate

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// This file holds the per-upstream traffic figures: the proxied requests
// counted by the wrapped transport (observe.go), shown by the admin API,
// the dashboard and Prometheus. The counters are atomics in the upstream's
// state, read at scrape time, so a request pays a few atomic adds.

func init() {
	stats.Register(stats.SectionUpstreams, func() any { return pools(snapshot()) })
}

// countRoundTrip counts one round trip begun at start.
func (s *upstreamState) countRoundTrip(start time.Time, res *http.Response, err error) {
	status := 0
	if err == nil && res != nil {
		status = res.StatusCode
	}
	s.traffic.End(start, status)
}

// StatsPool names the source's pool for the dashboard's site map.
func (s *Source) StatsPool() string { return s.Pool }

// Descriptions of the traffic series, collected at scrape time.
var (
	requestsDesc = prometheus.NewDesc("frontdesk_healthgate_upstream_requests_total",
		"Proxied requests sent to an upstream, by pool, upstream and outcome (2xx3xx, 4xx, 5xx, failed: no response).",
		[]string{"pool", "upstream", "outcome"}, nil)
	inFlightDesc = prometheus.NewDesc("frontdesk_healthgate_upstream_in_flight",
		"Proxied requests waiting for an upstream's response now, by pool and upstream.", []string{"pool", "upstream"}, nil)
	latencyDesc = prometheus.NewDesc("frontdesk_healthgate_upstream_latency_seconds",
		"Time to an upstream's response header, p50 and p99 over the life of the process, by pool and upstream.",
		[]string{"pool", "upstream", "quantile"}, nil)
	stateChangesDesc = prometheus.NewDesc("frontdesk_healthgate_state_changes_total",
		"Times an upstream came up or went down, by pool and upstream.", []string{"pool", "upstream"}, nil)
)

// trafficCollector exports the traffic figures of every loaded upstream.
type trafficCollector struct{}

// Describe implements prometheus.Collector.
func (trafficCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{requestsDesc, inFlightDesc, latencyDesc, stateChangesDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (trafficCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range snapshot() {
		t, labels := st.Traffic, []string{st.Pool, st.Upstream}
		ok := t.Requests - t.Status4xx - t.Status5xx - t.Failed
		for _, o := range []struct {
			name string
			n    uint64
		}{{"2xx3xx", ok}, {"4xx", t.Status4xx}, {"5xx", t.Status5xx}, {"failed", t.Failed}} {
			ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, float64(o.n), st.Pool, st.Upstream, o.name)
		}
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(t.InFlight), labels...)
		ch <- prometheus.MustNewConstMetric(latencyDesc, prometheus.GaugeValue, t.LatencyP50MS/1000, st.Pool, st.Upstream, "0.5")
		ch <- prometheus.MustNewConstMetric(latencyDesc, prometheus.GaugeValue, t.LatencyP99MS/1000, st.Pool, st.Upstream, "0.99")
		ch <- prometheus.MustNewConstMetric(stateChangesDesc, prometheus.CounterValue, float64(st.StateChanges), labels...)
	}
}
