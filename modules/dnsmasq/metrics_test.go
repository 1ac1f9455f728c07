package dnsmasq

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestCountQueryLabels(t *testing.T) {
	d := &dnsMetrics{queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "q"}, []string{"type", "rcode", "source"})}
	d.countQuery(dns.TypeA, dns.RcodeSuccess, string(sourceCache))
	d.countQuery(dns.TypeA, dns.RcodeSuccess, string(sourceCache))
	d.countQuery(dns.TypeA, dns.RcodeNameError, string(sourceUpstream))
	d.countQuery(65280, dns.RcodeSuccess, string(sourceLocal)) // unnamed types share "other"
	d.countQuery(65281, dns.RcodeSuccess, string(sourceLocal))
	d.countQuery(dns.TypeNone, dns.RcodeSuccess, string(sourceLocal)) // type 0 has a name: not "other"
	d.countQuery(dns.TypeAAAA, dns.RcodeRefused, "elsewhere")         // a source without an index
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"A", "NOERROR", "cache"}, 2},
		{[]string{"A", "NXDOMAIN", "upstream"}, 1},
		{[]string{"other", "NOERROR", "local"}, 2},
		{[]string{"None", "NOERROR", "local"}, 1},
		{[]string{"AAAA", "REFUSED", "elsewhere"}, 1},
	} {
		var m dto.Metric
		if err := d.queries.WithLabelValues(c.labels...).Write(&m); err != nil {
			t.Fatal(err)
		}
		if got := m.GetCounter().GetValue(); got != c.want {
			t.Errorf("%v: %v, want %v", c.labels, got, c.want)
		}
	}
	if n := len(*d.queryCounters.Load()); n != 4 {
		t.Errorf("%d children cached, want 4 (the unnamed types share one)", n)
	}
}

func BenchmarkCountQuery(b *testing.B) {
	d := &dnsMetrics{queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "q"}, []string{"type", "rcode", "source"})}
	for b.Loop() {
		d.countQuery(dns.TypeA, dns.RcodeSuccess, string(sourceCache))
	}
}
