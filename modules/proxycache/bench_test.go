package proxycache

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
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
			h.ServeHTTP(httptest.NewRecorder(), r, o)
			w := &discardResponse{header: http.Header{}}
			b.ReportAllocs()
			b.SetBytes(int64(size))
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
