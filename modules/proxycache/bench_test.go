package proxycache

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
	fdstats "github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// BenchmarkHit measures the hit path (lookup, header copy, status fields,
// body write) for a 1 KiB and a 100 KiB object.
func BenchmarkHit(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			h := newHandler(b, `{"storage":{"module":"memory","zone":"bench-`+byteSize(size)+`"}}`)
			o := respond(200, string(bytes.Repeat([]byte("x"), size)), "Cache-Control", "max-age=3600", "Content-Type", "application/json")
			r := httptest.NewRequest("GET", "/bench", nil)
			r.Host = "example.com"
			r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
			b.SetBytes(int64(size))
			serveHits(b, h, r, o)
		})
	}
}

func byteSize(n int) string {
	if n >= 1<<10 {
		return string(rune('0'+n>>10/100%10)) + string(rune('0'+n>>10/10%10)) + string(rune('0'+n>>10%10)) + "KiB"
	}
	return "small"
}

type discardResponse struct{ header http.Header }

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) WriteHeader(int)             {}
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }

// redisBenchRuns numbers BenchmarkHitRedis's runs for their key prefixes.
var redisBenchRuns atomic.Int64

// BenchmarkHitRedis measures the hit path through the redis storage on a
// real redis-server: with the local tier (answered from process memory)
// and without (a Redis round trip and a decode per hit: the price the
// local tier removes).
func BenchmarkHitRedis(b *testing.B) {
	r := startRedisB(b)
	for _, v := range []struct{ name, local string }{
		{"local", `,"local":{"max_size":16777216}`},
		{"shared", ""},
	} {
		b.Run(v.name, func(b *testing.B) {
			// A prefix of its own per run: b.Run calls this again with a
			// larger b.N, and the entry the last run stored would be a hit.
			prefix := fmt.Sprintf("bench-%s-%d:", v.name, redisBenchRuns.Add(1))
			h := newHandler(b, `{"storage":{"module":"redis","url":"`+r.URL()+`","prefix":"`+prefix+`"`+v.local+`}}`)
			if v.local != "" {
				for !h.storage.(*RedisStorage).local.usable(time.Now()) {
					time.Sleep(time.Millisecond)
				}
			}
			o := respond(200, string(bytes.Repeat([]byte("x"), 1<<10)), "Cache-Control", "max-age=3600", "Content-Type", "application/json")
			r := httptest.NewRequest("GET", "/bench", nil)
			r.Host = "example.com"
			r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
			h.ServeHTTP(httptest.NewRecorder(), r, o) // stores; serveHits' first request fills the local tier
			b.SetBytes(1 << 10)
			serveHits(b, h, r, o)
		})
	}
}

// startRedisB runs a real redis-server for a benchmark.
func startRedisB(b *testing.B) *harness.Redis {
	if msg := harness.MissingPeer("redis-server"); msg != "" {
		b.Skip(msg)
	}
	r, err := harness.StartRedis(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Stop)
	return r
}

// BenchmarkHitDashboard measures what the dashboard's top keys add to a
// 1 KiB hit: "off" without a dashboard loaded, "on" with one.
func BenchmarkHitDashboard(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "on" {
				defer fdstats.Watch()()
			}
			h := newHandler(b, `{"storage":{"module":"memory","zone":"bench-dashboard-`+mode+`"}}`)
			o := respond(200, string(bytes.Repeat([]byte("x"), 1<<10)), "Cache-Control", "max-age=3600")
			r := httptest.NewRequest("GET", "/bench", nil)
			r.Host = "example.com"
			r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
			serveHits(b, h, r, o)
		})
	}
}

// serveHits stores the response with one request, then answers r b.N
// times from the cache and checks that the origin saw one request.
func serveHits(b *testing.B, h *Handler, r *http.Request, o *origin) {
	h.ServeHTTP(httptest.NewRecorder(), r, o)
	w := &discardResponse{header: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		clear(w.header)
		if err := h.ServeHTTP(w, r, o); err != nil {
			b.Fatal(err)
		}
	}
	if o.n.Load() != 1 {
		b.Fatalf("origin requests %d", o.n.Load())
	}
}
