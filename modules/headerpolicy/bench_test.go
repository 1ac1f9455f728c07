package headerpolicy

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// BenchmarkServeHTTP is the policy's own cost per request, without the proxy:
// the nginx preset for a plain client, and a trusted proxy's request with
// Forwarded and a request ID. Compare with the time a proxied request takes
// (integration/bench) to see the share header_policy has in it.
func BenchmarkServeHTTP(b *testing.B) {
	cases := []struct {
		name    string
		handler *Handler
		remote  string
		header  http.Header
	}{
		{"nginx preset, plain client", &Handler{Preset: "nginx"}, "127.0.0.1:50000",
			http.Header{"User-Agent": {"curl/7.88.1"}, "Accept": {"*/*"}}},
		{"nginx preset, spoofing client", &Handler{Preset: "nginx"}, "203.0.113.7:50000",
			http.Header{"X-Real-Ip": {"6.6.6.6"}, "X-Forwarded-For": {"1.2.3.4"}, "Accept": {"*/*"}}},
		{"trusted proxy, forwarded, request_id", &Handler{Preset: "nginx", TrustedProxies: []string{"private_ranges"}, Forwarded: true, RequestID: "X-Request-ID"},
			"10.0.0.2:50000", http.Header{"X-Forwarded-For": {"198.51.100.9"}, "Forwarded": {"for=198.51.100.9;proto=https"}, "X-Request-Id": {"lb-42"}}},
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Server", "backend")
		w.WriteHeader(http.StatusOK)
		return nil
	})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h, _ := provision(b, c.handler)
			base := httptest.NewRequest(http.MethodGet, "http://myapp.local/api/items", nil)
			base.RemoteAddr = c.remote
			base.Host = "myapp.local:8000"
			base = caddyhttp.PrepareRequest(base, caddy.NewReplacer(), nil, nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := base.Clone(base.Context())
				r.Header = c.header.Clone()
				if err := h.ServeHTTP(w, r, next); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
