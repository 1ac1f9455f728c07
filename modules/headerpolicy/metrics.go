package headerpolicy

import (
	"github.com/frontdesk-proxy/frontdesk/modules/internal/promreg"

	"github.com/prometheus/client_golang/prometheus"
)

// policyMetrics are the handler's Prometheus collectors.
type policyMetrics struct {
	replaced *prometheus.CounterVec
}

// metrics are created once per process and registered into each config's
// registry, so counts survive config reloads.
var metrics = &policyMetrics{
	replaced: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "frontdesk",
		Subsystem: "header_policy",
		Name:      "untrusted_headers_replaced_total",
		Help:      "Forwarding headers sent by an untrusted client that header_policy replaced or removed, by header.",
	}, []string{"header"}),
}

func registerMetrics(reg *prometheus.Registry) (*policyMetrics, error) {
	if err := promreg.Register(reg, metrics.replaced); err != nil {
		return nil, err
	}
	return metrics, nil
}
