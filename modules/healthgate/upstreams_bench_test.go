package healthgate

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// BenchmarkGetUpstreams is healthgate's share of every proxied request:
// GetUpstreams for a pool of serving upstreams. "one" is the throughput
// bench's pool (one upstream), "weighted" three upstreams of weights 3, 3
// and 1 (seven entries). Their first checks fail (nothing listens) but
// fall is out of reach. Run it with -benchmem: each call allocates the
// Upstream values and the slice of pointers to them, two allocations.
func BenchmarkGetUpstreams(b *testing.B) {
	for _, bc := range []struct {
		name    string
		members []Member
		want    int
	}{
		{"one", []Member{{Dial: "127.0.0.1:3001"}}, 1},
		{"weighted", []Member{{Dial: "127.0.0.1:3001", Weight: 3}, {Dial: "127.0.0.1:3002", Weight: 3}, {Dial: "127.0.0.1:3003"}}, 7},
	} {
		b.Run(bc.name, func(b *testing.B) {
			src := servingSource(b, bc.members...)
			req := httptest.NewRequest("GET", "/", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if ups, _ := src.GetUpstreams(req); len(ups) != bc.want {
						b.Fatalf("%d upstreams, want %d", len(ups), bc.want)
					}
				}
			})
		})
	}
}

// BenchmarkTrafficWatchSuccess is live observation's share of a proxied
// request that succeeds: the watched transport's look at its outcome.
func BenchmarkTrafficWatchSuccess(b *testing.B) {
	src := servingSource(b, Member{Dial: "127.0.0.1:3001"})
	req := httptest.NewRequest("GET", "/", nil)
	res := &http.Response{StatusCode: http.StatusOK}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			src.watch.saw(req, res, nil)
		}
	})
}

// servingSource provisions a pool whose upstreams serve from the start and
// stay in: initially healthy, checked once an hour, fall out of reach.
func servingSource(b *testing.B, members ...Member) *Source {
	src := source(b.Name(), members...)
	src.InitiallyHealthy = true
	src.Interval = caddy.Duration(time.Hour)
	src.Timeout = caddy.Duration(time.Millisecond)
	src.Fall = 1000 // the first check (nothing listens) must not take them out
	if err := src.provision(&emitter{}, zap.NewNop()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { src.Cleanup() })
	return src
}
