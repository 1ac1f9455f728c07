package proxycache

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

func TestValidAndIgnoreHeaders(t *testing.T) {
	cfg := `{"valid":{"200":"10m","404":"1m"},"ignore_headers":["Cache-Control","Expires"]}`
	h := newHandler(t, cfg)
	o := respond(200, "x", "Cache-Control", "no-store, no-cache, private, max-age=0", "Expires", "0")
	if got := second(t, h, o); got != labelHit {
		t.Errorf("ignored Cache-Control/Expires: %s, want HIT", got)
	}
	w := send(t, h, o, "GET", "/r")
	if !strings.Contains(w.Header().Get("Cache-Status"), "ttl=599") && !strings.Contains(w.Header().Get("Cache-Status"), "ttl=600") {
		t.Errorf("ttl from valid 10m: %q", w.Header().Get("Cache-Status"))
	}
	// A status without a valid time and without freshness is not stored.
	o5 := respond(302, "x", "Location", "/")
	if got := xcs(send(t, h, o5, "GET", "/302")); got != labelMiss {
		t.Fatal(got)
	}
	if got := xcs(send(t, h, o5, "GET", "/302")); got != labelMiss {
		t.Errorf("302 without valid: %s", got)
	}

	// Without ignore_headers, explicit freshness wins over valid, and valid
	// applies when the response has none.
	h2 := newHandler(t, `{"storage":{"module":"memory","zone":"valid2"},"valid":{"any":"1m"}}`)
	o2 := respond(200, "x", "Cache-Control", "max-age=30")
	send(t, h2, o2, "GET", "/a")
	if cs := send(t, h2, o2, "GET", "/a").Header().Get("Cache-Status"); !strings.Contains(cs, "ttl=29") && !strings.Contains(cs, "ttl=30") {
		t.Errorf("max-age must beat valid: %q", cs)
	}
	o3 := respond(404, "x")
	send(t, h2, o3, "GET", "/b")
	expectStatus(t, send(t, h2, o3, "GET", "/b"), labelHit)
	o4 := respond(200, "x", "Cache-Control", "no-store")
	if got := second(t, h2, o4); got != labelMiss {
		t.Errorf("no-store must beat valid: %s", got)
	}
}

func TestIgnoreVary(t *testing.T) {
	h := newHandler(t, `{"ignore_headers":["Vary"]}`)
	o := respond(200, "x", "Cache-Control", "max-age=60", "Vary", "*")
	if got := second(t, h, o); got != labelHit {
		t.Errorf("ignored Vary: %s", got)
	}
}

func TestMinUses(t *testing.T) {
	h := newHandler(t, `{"min_uses":3}`)
	o := respond(200, "x", "Cache-Control", "max-age=60")
	for i, want := range []string{labelMiss, labelMiss, labelMiss, labelHit} {
		if got := xcs(send(t, h, o, "GET", "/r")); got != want {
			t.Errorf("request %d: %s, want %s", i+1, got, want)
		}
	}
}

func TestBypassAndNoCache(t *testing.T) {
	h := newHandler(t, `{"bypass":[{"header":{"X-Bypass":["*"]}}],"no_cache":[{"path":["/private/*"]}]}`)
	o := respond(200, "x", "Cache-Control", "max-age=60")
	send(t, h, o, "GET", "/r")
	w := send(t, h, o, "GET", "/r", "X-Bypass: 1")
	expectStatus(t, w, labelBypass)
	if o.n.Load() != 2 {
		t.Errorf("bypass must reach the origin")
	}
	expectStatus(t, send(t, h, o, "GET", "/r"), labelHit)
	send(t, h, o, "GET", "/private/a")
	expectStatus(t, send(t, h, o, "GET", "/private/a"), labelMiss)
}

func TestMethodsPost(t *testing.T) {
	h := newHandler(t, `{"methods":["POST"],"valid":{"200":"1m"}}`)
	o := respond(200, "x")
	send(t, h, o, "POST", "/r")
	expectStatus(t, send(t, h, o, "POST", "/r"), labelHit)
	expectStatus(t, send(t, h, o, "GET", "/r"), labelMiss) // the default key has the method
	h2 := newHandler(t, `{"storage":{"module":"memory","zone":"nopost"},"valid":{"200":"1m"}}`)
	send(t, h2, o, "POST", "/r")
	if got := xcs(send(t, h2, o, "POST", "/r")); got != "" {
		t.Errorf("POST not cacheable by default: %q", got)
	}
}

func TestKeyTemplate(t *testing.T) {
	h := newHandler(t, `{"key":"{http.request.uri.path}","cache_status_key":true}`)
	o := respond(200, "x", "Cache-Control", "max-age=60")
	send(t, h, o, "GET", "/r?a=1")
	w := send(t, h, o, "GET", "/r?a=2")
	expectStatus(t, w, labelHit)
	if !strings.Contains(w.Header().Get("Cache-Status"), `key="/r"`) {
		t.Errorf("Cache-Status %q", w.Header().Get("Cache-Status"))
	}
	// The default key never shows.
	h2 := newHandler(t, `{"storage":{"module":"memory","zone":"k2"}}`)
	send(t, h2, o, "GET", "/r")
	if cs := send(t, h2, o, "GET", "/r").Header().Get("Cache-Status"); strings.Contains(cs, "key") || strings.Contains(cs, "example.com") {
		t.Errorf("key leaked: %q", cs)
	}
	// Default key: method, scheme, host (no port, lower case), URI.
	if k := h2.cacheKey(reqFor("HEAD", "http://Example.COM:8080/a?b=1")); k != "GEThttpexample.com/a?b=1" {
		t.Errorf("default key %q", k)
	}
}

func reqFor(method, url string) *http.Request {
	r, _ := http.NewRequest(method, url, nil)
	r.RequestURI = r.URL.RequestURI()
	return r
}

func TestStatusHeadersSwitchable(t *testing.T) {
	h := newHandler(t, `{"cache_status":false,"x_cache_status":false}`)
	o := respond(200, "x", "Cache-Control", "max-age=60")
	send(t, h, o, "GET", "/r")
	w := send(t, h, o, "GET", "/r")
	if w.Header().Get("Cache-Status") != "" || w.Header().Get("X-Cache-Status") != "" || o.n.Load() != 1 {
		t.Errorf("headers %v, origin %d", w.Header(), o.n.Load())
	}
	// Cache-Status appends to the origin's own member.
	h2 := newHandler(t, `{"storage":{"module":"memory","zone":"cs2"}}`)
	o2 := respond(200, "x", "Cache-Control", "max-age=60", "Cache-Status", "OriginCache; hit")
	w = send(t, h2, o2, "GET", "/r")
	if got := w.Header().Get("Cache-Status"); got != "OriginCache; hit, Frontdesk; fwd=uri-miss; fwd-status=200; stored" {
		t.Errorf("miss Cache-Status %q", got)
	}
	w = send(t, h2, o2, "GET", "/r")
	if got := w.Header().Get("Cache-Status"); !strings.HasPrefix(got, "OriginCache; hit, Frontdesk; hit; ttl=") {
		t.Errorf("hit Cache-Status %q", got)
	}
}

func TestLockCollapses(t *testing.T) {
	h := newHandler(t, `{"lock":true}`)
	release := make(chan struct{})
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("once"))
		return nil
	}
	var wg sync.WaitGroup
	results := make([]string, 50)
	bodies := make([]string, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := send(t, h, o, "GET", "/r")
			results[i], bodies[i] = xcs(w), w.Body.String()
		}()
	}
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	if o.n.Load() != 1 {
		t.Errorf("origin requests %d, want 1", o.n.Load())
	}
	misses := 0
	for i := range results {
		if results[i] == labelMiss {
			misses++
		}
		if bodies[i] != "once" {
			t.Errorf("request %d body %q", i, bodies[i])
		}
	}
	if misses != 1 {
		t.Errorf("%d MISS, want 1: %v", misses, results)
	}
}

func TestLockTimeout(t *testing.T) {
	h := newHandler(t, `{"lock":true,"lock_timeout":"50ms"}`)
	release := make(chan struct{})
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		if o.n.Load() == 1 {
			<-release
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("x"))
		return nil
	}
	done := make(chan struct{})
	go func() { send(t, h, o, "GET", "/r"); close(done) }()
	for o.n.Load() < 1 { // the leader is at the origin
		time.Sleep(5 * time.Millisecond)
	}
	w := send(t, h, o, "GET", "/r")
	if xcs(w) != labelMiss || o.n.Load() != 2 {
		t.Errorf("after lock_timeout: %s, origin %d", xcs(w), o.n.Load())
	}
	close(release)
	<-done
}

func TestUseStaleUpdating(t *testing.T) {
	// nginx: use_stale updating + background_update: the first request after
	// expiry gets STALE and starts a refresh; others meanwhile get UPDATING.
	h := newHandler(t, `{"use_stale":["updating"],"background_update":true,"valid":{"200":"1m"}}`)
	release := make(chan struct{})
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		if o.n.Load() == 1 {
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Age", "5")
			w.Write([]byte("old"))
			return nil
		}
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("new"))
		return nil
	}
	send(t, h, o, "GET", "/r")
	w := send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelStale)
	if w.Body.String() != "old" {
		t.Fatal(w.Body.String())
	}
	expectStatus(t, send(t, h, o, "GET", "/r"), labelUpdating)
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if w := send(t, h, o, "GET", "/r"); xcs(w) == labelHit {
			if w.Body.String() != "new" {
				t.Fatal(w.Body.String())
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("never refreshed")
}

func TestUseStaleUpdatingForeground(t *testing.T) {
	// Without background_update, the request that finds the entry expired
	// refreshes it itself (EXPIRED), and concurrent ones get UPDATING.
	h := newHandler(t, `{"use_stale":["updating"]}`)
	release := make(chan struct{})
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		if o.n.Load() > 1 {
			<-release
		}
		w.Header().Set("Cache-Control", "max-age=1")
		w.Header().Set("Age", "5")
		w.Write([]byte("x"))
		return nil
	}
	send(t, h, o, "GET", "/r")
	first := make(chan string)
	go func() { first <- xcs(send(t, h, o, "GET", "/r")) }()
	for o.n.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	expectStatus(t, send(t, h, o, "GET", "/r"), labelUpdating)
	close(release)
	if got := <-first; got != labelExpired {
		t.Errorf("updater: %s", got)
	}
}

func TestMaxObjectSizeStreamsThrough(t *testing.T) {
	h := newHandler(t, `{"max_object_size":1024}`)
	big := bytes.Repeat([]byte("a"), 4096)
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "max-age=60")
		for i := 0; i < 4; i++ {
			w.Write(big[:1024])
		}
		return nil
	}
	w := send(t, h, o, "GET", "/big")
	if w.Body.Len() != 4096 {
		t.Fatalf("streamed %d bytes", w.Body.Len())
	}
	expectStatus(t, send(t, h, o, "GET", "/big"), labelMiss)
	// Known too large from Content-Length: never buffered.
	o2 := respond(200, string(big), "Cache-Control", "max-age=60", "Content-Length", "4096")
	send(t, h, o2, "GET", "/big2")
	expectStatus(t, send(t, h, o2, "GET", "/big2"), labelMiss)
}

// TestStreamsWhileStoring: the client receives the first bytes before the
// origin has finished.
func TestStreamsWhileStoring(t *testing.T) {
	h := newHandler(t, "")
	release := make(chan struct{})
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("first "))
		http.NewResponseController(w).Flush()
		<-release
		w.Write([]byte("second"))
		return nil
	}
	fw := &flushRecorder{header: http.Header{}, flushed: make(chan string, 1)}
	r := reqFor("GET", "http://example.com/s")
	done := make(chan error)
	go func() { done <- h.ServeHTTP(fw, r, o) }()
	select {
	case got := <-fw.flushed:
		if got != "first " {
			t.Fatalf("flushed %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing reached the client before the origin finished")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w := send(t, h, o, "GET", "/s")
	expectStatus(t, w, labelHit)
	if w.Body.String() != "first second" {
		t.Errorf("stored %q", w.Body.String())
	}
}

type flushRecorder struct {
	mu      sync.Mutex
	header  http.Header
	body    bytes.Buffer
	flushed chan string
}

func (f *flushRecorder) Header() http.Header { return f.header }
func (f *flushRecorder) WriteHeader(int)     {}
func (f *flushRecorder) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.body.Write(p)
}
func (f *flushRecorder) Flush() {
	f.mu.Lock()
	s := f.body.String()
	f.mu.Unlock()
	select {
	case f.flushed <- s:
	default:
	}
}

func TestTruncatedBodyNotStored(t *testing.T) {
	h := newHandler(t, "")
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("short"))
		return nil
	}
	send(t, h, o, "GET", "/t")
	expectStatus(t, send(t, h, o, "GET", "/t"), labelMiss)
}

func TestMemoryLRUAndBound(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	m := &MemoryStorage{Zone: "lru-test", MaxSize: 10 << 10}
	if err := m.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Cleanup()
	put := func(k string) {
		e := &Entry{Key: k, URL: "http://x/" + k, Status: 200, Header: http.Header{}, Body: make([]byte, 1000)}
		if err := m.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		put(fmt.Sprint(i))
		if i == 5 {
			m.Get("0") // keep 0 recently used
		}
		_, size := m.Stats()
		if size > 10<<10 {
			t.Fatalf("size %d over the bound", size)
		}
	}
	if v, _ := m.Get("1"); v != nil {
		t.Error("least recently used entry survived")
	}
	if v, _ := m.Get("29"); v == nil {
		t.Error("newest entry evicted")
	}
	if err := m.Put(&Entry{Key: "huge", Body: make([]byte, 20<<10)}); err != ErrTooLarge {
		t.Errorf("huge entry: %v", err)
	}
	// 3× max_size inserted: still bounded.
	for i := range 30 {
		put(fmt.Sprint("again", i))
	}
	if _, size := m.Stats(); size > 10<<10 {
		t.Errorf("size %d over the bound", size)
	}
}

func TestMemoryInactive(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	m := &MemoryStorage{Zone: "inactive-test", Inactive: caddy.Duration(600 * time.Millisecond)}
	if err := m.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Cleanup()
	m.Put(&Entry{Key: "a", Header: http.Header{}})
	m.Put(&Entry{Key: "b", Header: http.Header{}})
	time.Sleep(300 * time.Millisecond)
	m.Get("a")
	time.Sleep(300 * time.Millisecond)
	if v, _ := m.Get("a"); v == nil {
		t.Error("recently used entry expired")
	}
	time.Sleep(1500 * time.Millisecond)
	if keys, _ := m.Stats(); keys != 0 {
		t.Errorf("%d keys left after inactive (janitor)", keys)
	}
}

// TestContentsSurviveReload: a second config naming the zone keeps the
// entries when the first is cleaned up, as on a Caddy reload.
func TestContentsSurviveReload(t *testing.T) {
	cfg := `{"storage":{"module":"memory","zone":"reload-test"}}`
	var h1 Handler
	json.Unmarshal([]byte(cfg), &h1)
	ctx1, cancel1 := caddy.NewContext(caddy.Context{Context: context.Background()})
	if err := h1.Provision(ctx1); err != nil {
		t.Fatal(err)
	}
	o := respond(200, "x", "Cache-Control", "max-age=60")
	send(t, &h1, o, "GET", "/r")

	var h2 Handler
	json.Unmarshal([]byte(cfg), &h2)
	ctx2, cancel2 := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel2()
	if err := h2.Provision(ctx2); err != nil {
		t.Fatal(err)
	}
	cancel1() // the old config stops: Cleanup of its storage
	expectStatus(t, send(t, &h2, o, "GET", "/r"), labelHit)
	cancel2()
	// Last reference gone: a new config starts empty.
	var h3 Handler
	json.Unmarshal([]byte(cfg), &h3)
	ctx3, cancel3 := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel3()
	if err := h3.Provision(ctx3); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, send(t, &h3, o, "GET", "/r"), labelMiss)
}

// TestHugeResponseStreamsWithBoundedMemory: a 1 GiB response streams
// through a miss while allocating a small fraction of its size.
func TestHugeResponseStreamsWithBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB")
	}
	h := newHandler(t, `{"max_object_size":1048576}`)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	const total = 1 << 30
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "max-age=60")
		for sent := 0; sent < total; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	}
	cw := &countingWriter{header: http.Header{}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := h.ServeHTTP(cw, reqFor("GET", "http://example.com/huge"), o); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if cw.n != total {
		t.Fatalf("client got %d bytes", cw.n)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d MiB to stream 1 GiB", alloc>>20)
	}
}

type countingWriter struct {
	header http.Header
	n      int64
}

func (c *countingWriter) Header() http.Header { return c.header }
func (c *countingWriter) WriteHeader(int)     {}
func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
