package healthgate

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// BenchmarkGetUpstreams is healthgate's share of every proxied request: a
// pool of three serving upstreams (weights 3, 3, 1), its first checks fail
// (nothing listens) but fall is out of reach. Run it with -benchmem; it allocates two slices per call.
func BenchmarkGetUpstreams(b *testing.B) {
	src := source(b.Name(), Member{Dial: "127.0.0.1:3001", Weight: 3}, Member{Dial: "127.0.0.1:3002", Weight: 3},
		Member{Dial: "127.0.0.1:3003"})
	src.InitiallyHealthy = true
	src.Interval = caddy.Duration(time.Hour)
	src.Timeout = caddy.Duration(time.Millisecond)
	src.Fall = 1000 // the first check (nothing listens) must not take them out
	if err := src.provision(&emitter{}, zap.NewNop()); err != nil {
		b.Fatal(err)
	}
	defer src.Cleanup()
	req := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ups, _ := src.GetUpstreams(req); len(ups) != 7 {
				b.Fatalf("%d upstreams", len(ups))
			}
		}
	})
}
