// Package promreg registers a module's Prometheus collectors in the registry
// of the config being provisioned (caddy.Context.GetMetricsRegistry).
//
// A module's collectors are package variables, so their counts survive config
// reloads; each new config's registry gets them again, and a second module
// instance in the same config finds them already there.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register adds collectors to reg, tolerating those it has already. A nil
// registry (metrics off, or a unit test's bare context) registers nothing.
func Register(reg *prometheus.Registry, collectors ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}
