package proxycache

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// oldHostname is the hostname function the key fast path replaced.
func oldHostname(h string) string {
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.ToLower(h)
}

func TestAppendHostnameMatchesSplitHostPort(t *testing.T) {
	for _, h := range []string{"example.com", "Example.COM:8080", "[::1]:80", "[::1]", "::1", "a:b:c", "host:",
		"ÉXAMPLE.com", "bad\xffHOST", "HOST\xff:99", "", ":80", "[fe80::1%25eth0]:443"} {
		if got, want := string(appendHostname(nil, h)), oldHostname(h); got != want {
			t.Errorf("appendHostname(%q) = %q, want %q", h, got, want)
		}
	}
}

// TestCompiledKeyMatchesReplacer checks the compiled key templates against
// Caddy's replacer, which evaluates the templates that do not compile.
func TestCompiledKeyMatchesReplacer(t *testing.T) {
	templates := []string{
		"{http.request.method}{http.request.scheme}{http.request.host}{http.request.orig_uri}",
		"{http.request.host}{http.request.uri.path}",
		"k:{http.request.hostport}|{http.request.uri.query}|{http.request.method}",
		"literal only",
		"{http.request.method}{http.request.scheme}{http.request.host}:{http.request.local.port}{http.request.orig_uri}",
	}
	for _, tmpl := range templates {
		parts, ok := compileKey(tmpl)
		if !ok {
			t.Fatalf("%q did not compile", tmpl)
		}
		for _, method := range []string{"GET", "HEAD", "POST"} {
			for _, target := range []string{"http://Example.COM:8080/a/b?x=1&y=2", "http://[::1]:80/p", "http://example.com/%41?q"} {
				r := httptest.NewRequest(method, target, nil)
				ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
				ctx = context.WithValue(ctx, caddyhttp.OriginalRequestCtxKey, *r)
				ctx = context.WithValue(ctx, http.LocalAddrContextKey, net.Addr(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}))
				r = r.WithContext(ctx)
				caddyhttp.NewTestReplacer(r)
				h := &Handler{Key: tmpl}
				want := h.cacheKey(r) // keyParts nil: the replacer
				h.keyParts = parts
				if got := h.cacheKey(r); got != want {
					t.Errorf("%q %s %s: compiled %q, replacer %q", tmpl, method, target, got, want)
				}
			}
		}
	}
	for _, tmpl := range []string{"{http.request.header.Cookie}", `\{x\}`, "{http.request.host", "a}b", "{}", "{http.request.uri}"} {
		if _, ok := compileKey(tmpl); ok {
			t.Errorf("%q compiled; it must go through the replacer", tmpl)
		}
	}
}

// TestHitHeaderIsolated checks that what a later handler does to a hit's
// header never reaches the stored entry or other hits.
func TestHitHeaderIsolated(t *testing.T) {
	h := newHandler(t, "")
	o := respond(200, "body", "Cache-Control", "max-age=60", "X-A", "1", "X-A", "2", "Content-Type", "text/plain")
	send(t, h, o, "GET", "/iso")
	w := send(t, h, o, "GET", "/iso")
	expectStatus(t, w, "HIT")
	w.Header()["X-A"][0] = "changed"
	w.Header().Add("X-A", "3")
	w.Header()["Cache-Status"][0] = "changed"
	w.Header()["Age"][0] = "changed"
	w2 := send(t, h, o, "GET", "/iso")
	if got := w2.Header().Values("X-A"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Fatalf("X-A %q", got)
	}
	if got := w2.Header().Get("Cache-Status"); !strings.HasPrefix(got, "Frontdesk; hit; ttl=") {
		t.Fatalf("Cache-Status %q", got)
	}
	if got := w2.Header().Get("Age"); got != "0" {
		t.Fatalf("Age %q", got)
	}
	if got := w2.Header().Get("Content-Length"); got != "4" {
		t.Fatalf("Content-Length %q", got)
	}
}

// TestHitStringsFollowTheClock checks the per-second Age and ttl strings.
func TestHitStringsFollowTheClock(t *testing.T) {
	resp := time.Now()
	e := &Entry{ResponseTime: resp, InitialAge: 5 * time.Second, Lifetime: 100*time.Second + 500*time.Millisecond}
	for _, d := range []time.Duration{0, 300 * time.Millisecond, 499 * time.Millisecond, 500 * time.Millisecond,
		999 * time.Millisecond, time.Second, 1700 * time.Millisecond, 95 * time.Second, 200 * time.Second} {
		now := resp.Add(d)
		age := e.age(now)
		s := e.hitStrings(int64(age/time.Second), int64(e.ttl(now)/time.Second))
		if want := strconv.FormatInt(int64(e.age(now)/time.Second), 10); s.age != want {
			t.Errorf("+%v: Age %q, want %q", d, s.age, want)
		}
		if want := "Frontdesk; hit; ttl=" + strconv.FormatInt(int64(e.ttl(now)/time.Second), 10); s.status != want {
			t.Errorf("+%v: Cache-Status %q, want %q", d, s.status, want)
		}
	}
}

// TestHitKeepsOtherFieldsAndAppendsCacheStatus checks that a hit writes
// into the response's own header: fields set before are kept, stored ones
// replace them, and an earlier Cache-Status is appended to.
func TestHitKeepsOtherFieldsAndAppendsCacheStatus(t *testing.T) {
	h := newHandler(t, "")
	o := respond(200, "body", "Cache-Control", "max-age=60", "X-B", "stored")
	send(t, h, o, "GET", "/keep")
	r := httptest.NewRequest("GET", "/keep", nil)
	r.Host = "example.com"
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
	caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	w.Header().Set("Server", "Caddy")
	w.Header().Set("X-B", "outer")
	w.Header().Set("Cache-Status", "Outer; hit")
	if err := h.ServeHTTP(w, r, o); err != nil {
		t.Fatal(err)
	}
	if w.Header().Get("Server") != "Caddy" || w.Header().Get("X-B") != "stored" {
		t.Fatalf("header %v", w.Header())
	}
	if got := w.Header().Values("Cache-Status"); len(got) != 1 || !strings.HasPrefix(got[0], "Outer; hit, Frontdesk; hit; ttl=") {
		t.Fatalf("Cache-Status %q", got)
	}
}

// BenchmarkHitKeyTemplate is BenchmarkHit's 1 KiB object with the seed's
// key template (compiled, not evaluated by the replacer).
func BenchmarkHitKeyTemplate(b *testing.B) {
	h := newHandler(b, `{"key":"{http.request.method}{http.request.scheme}{http.request.host}{http.request.orig_uri}"}`)
	o := respond(200, strings.Repeat("x", 1024), "Cache-Control", "max-age=3600", "Content-Type", "application/json")
	r := httptest.NewRequest("GET", "/bench", nil)
	r.Host = "example.com"
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	ctx = context.WithValue(ctx, caddyhttp.OriginalRequestCtxKey, *r)
	r = r.WithContext(ctx)
	caddyhttp.NewTestReplacer(r)
	if _, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); !ok {
		b.Fatal("no replacer")
	}
	serveHits(b, h, r, o)
}

// TestConcurrentHits runs hits of one entry in parallel (for -race: the
// hit template and strings are built on first use by whichever hit gets
// there first).
func TestConcurrentHits(t *testing.T) {
	h := newHandler(t, "")
	o := respond(200, "body", "Cache-Control", "max-age=60", "Etag", `"v1"`)
	send(t, h, o, "GET", "/par")
	if e := mustGet(t, h, "GEThttpexample.com/par"); e.tmpl.Load() != nil {
		t.Fatal("hit template built before the first hit")
	}
	done := make(chan string, 16)
	for range 16 {
		go func() {
			w := send(t, h, o, "GET", "/par")
			done <- xcs(w) + " " + w.Header().Get("Content-Length") + " " + w.Body.String()
		}()
	}
	for range 16 {
		if got := <-done; got != "HIT 4 body" {
			t.Fatalf("hit %q", got)
		}
	}
}

func mustGet(t *testing.T, h *Handler, key string) *Entry {
	t.Helper()
	v, err := h.storage.Get(key)
	if err != nil || len(v) != 1 {
		t.Fatalf("Get(%q): %d variants, %v", key, len(v), err)
	}
	return v[0]
}
