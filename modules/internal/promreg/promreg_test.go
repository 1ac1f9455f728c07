package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterTwiceAndNil(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "promreg_test_total", Help: "test"})
	reg := prometheus.NewRegistry()
	if err := Register(reg, c); err != nil {
		t.Fatal(err)
	}
	if err := Register(reg, c); err != nil {
		t.Fatalf("a second registration of the same collector: %v", err)
	}
	if err := Register(nil, c); err != nil {
		t.Fatalf("nil registry: %v", err)
	}
	clash := prometheus.NewGauge(prometheus.GaugeOpts{Name: "promreg_test_total", Help: "other"})
	if err := Register(reg, clash); err == nil {
		t.Fatal("a different collector under the same name was accepted")
	}
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 {
		t.Fatalf("gathered %d families, %v; want 1", len(mfs), err)
	}
}
