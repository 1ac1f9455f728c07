package healthgate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// TestTrafficCountedPerUpstream: every round trip through the wrapped
// transport is counted against its upstream by outcome, shown in the
// admin API's status, the dashboard's section and the Prometheus series.
func TestTrafficCountedPerUpstream(t *testing.T) {
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			code = http.StatusOK // the health check
		}
		w.WriteHeader(code)
	}))
	defer b.Close()
	dial := strings.TrimPrefix(b.URL, "http://")
	src := hourly(t.Name(), 1, Member{Dial: dial})
	src.Observe = &Observe{Off: true}
	s := provision(t, src)
	defer s.Cleanup()
	h := &reverseproxy.Handler{Transport: &reverseproxy.HTTPTransport{Transport: &http.Transport{}}}
	if err := s.wrapTransport(caddy.Context{}, h); err != nil {
		t.Fatal(err)
	}
	di := reverseproxy.DialInfo{Upstream: &reverseproxy.Upstream{Dial: dial}, Address: dial}
	for _, code := range []int{200, 200, 304, 404, 503} {
		r := httptest.NewRequest("GET", b.URL+"/"+strconv.Itoa(code), nil)
		r.RequestURI = ""
		r = r.WithContext(context.WithValue(r.Context(), dialInfoKey, di))
		res, err := h.Transport.RoundTrip(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	st := lookupState(s.Pool, dial).status()
	got := st.Traffic
	if got.Requests != 5 || got.Status4xx != 1 || got.Status5xx != 1 || got.Failed != 0 || got.InFlight != 0 || got.LatencyP99MS <= 0 {
		t.Errorf("traffic %+v, want 5 requests, one 4xx, one 5xx, a latency", got)
	}
	if st.Rise != 1 || st.Fall != s.cfg.fall {
		t.Errorf("rise/fall %d/%d, want 1/%d", st.Rise, st.Fall, s.cfg.fall)
	}

	var found bool
	for _, p := range stats.Snapshot()[stats.SectionUpstreams].([]PoolStatus) {
		if p.Name == s.Pool {
			found = p.Upstreams[0].Traffic.Requests == 5
		}
	}
	if !found {
		t.Error("the dashboard's upstreams section lacks the pool's 5 requests")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(trafficCollector{})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["pool"] != s.Pool {
				continue
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			series[mf.GetName()+" "+labels["outcome"]+labels["quantile"]] = v
		}
	}
	for name, want := range map[string]float64{
		"frontdesk_healthgate_upstream_requests_total 2xx3xx": 3,
		"frontdesk_healthgate_upstream_requests_total 4xx":    1,
		"frontdesk_healthgate_upstream_requests_total 5xx":    1,
		"frontdesk_healthgate_upstream_requests_total failed": 0,
		"frontdesk_healthgate_upstream_in_flight ":            0,
	} {
		if got, ok := series[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if series["frontdesk_healthgate_upstream_latency_seconds 0.99"] <= 0 {
		t.Errorf("no p99 latency series: %v", series)
	}
}
