package proxycache

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// versionOrigin answers "v<N> <path>" (N counts its requests), fresh for
// 10 minutes, tagged with the first path segment; 204 to unsafe methods.
func versionOrigin() *origin {
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		n := o.n.Load()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Surrogate-Key", "tag-"+seg)
		fmt.Fprintf(w, "v%d %s", n, r.URL.Path)
		return nil
	}
	return o
}

// localCfg is a handler config on redisURL with a local tier.
func localCfg(t *testing.T, redisURL string, heartbeat time.Duration) string {
	return `{"storage":{"module":"redis","url":"` + redisURL + `","prefix":` + jsonString(t.Name()+":") +
		`,"local":{"max_size":1048576,"heartbeat":` + fmt.Sprint(int64(heartbeat)) + `}}}`
}

// waitLocal waits until h's local tier is subscribed.
func waitLocal(t *testing.T, h *Handler) {
	t.Helper()
	l := h.storage.(*RedisStorage).local
	deadline := time.Now().Add(10 * time.Second)
	for !l.usable(time.Now()) {
		if time.Now().After(deadline) {
			t.Fatal("local tier not subscribed within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitNotServed polls path on h until its body is not old, within bound;
// it returns how long after its call the first request that did not get
// old began.
func waitNotServed(t *testing.T, h *Handler, o *origin, path, old string, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		sent := time.Since(start)
		w := send(t, h, o, "GET", path)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d", path, w.Code)
		}
		if w.Body.String() != old {
			return sent
		}
		if time.Since(start) > bound {
			t.Fatalf("GET %s still answers %q (%s) %s later", path, old, xcs(w), bound)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRedisLocalTier: hits come from the local tier (an entry deleted
// behind the storage's back is still served), and every purge,
// invalidation and replacing store on one instance reaches the other's
// local tier.
func TestRedisLocalTier(t *testing.T) {
	r := startRedis(t)
	cfg := localCfg(t, r.URL(), 50*time.Millisecond)
	a, b := newHandler(t, cfg), newHandler(t, cfg)
	waitLocal(t, a)
	waitLocal(t, b)
	o := versionOrigin()
	paths := []string{"/k/1", "/p/1", "/p/2", "/tag/1", "/post/1", "/replace/1", "/flush/1"}
	bodies := map[string]string{}
	for _, p := range paths {
		w := send(t, a, o, "GET", p)
		expectStatus(t, w, labelMiss)
		bodies[p] = w.Body.String()
		expectStatus(t, send(t, b, o, "GET", p), labelHit) // from Redis, into b's local tier
		// A fill that raced with the announcement of a's store is not
		// kept (it might be older than the announcement): the next is.
		waitLocalCopy(t, b, o, p)
	}
	// Served locally: gone from Redis, still a HIT on b.
	if _, err := r.Cli("DEL", b.storage.(*RedisStorage).entryKey(a.cacheKey(httpGet("/k/1")))); err != nil {
		t.Fatal(err)
	}
	if w := send(t, b, o, "GET", "/k/1"); xcs(w) != labelHit || w.Body.String() != bodies["/k/1"] {
		t.Fatalf("local hit: %s %q", xcs(w), w.Body.String())
	}

	// The admin stats show b's local tier.
	zone := b.storage.(*RedisStorage).zoneID()
	if code, v := adminCall(t, "/proxy_cache/stats", "GET", ""); code != 200 {
		t.Fatalf("stats: %d", code)
	} else if lt, _ := v["zones"].(map[string]any)[zone].(map[string]any)["local_tier"].(map[string]any); lt == nil || lt["usable"] != true || lt["objects"].(float64) < 1 {
		t.Errorf("stats of %s: local_tier %v", zone, lt)
	}

	sa := a.storage.(*RedisStorage)
	bound := 2 * time.Second // one pub/sub delivery, with room for a loaded machine
	check := func(what string, paths ...string) {
		t.Helper()
		for _, p := range paths {
			took := waitNotServed(t, b, o, p, bodies[p], bound)
			t.Logf("%s: %s no longer served by the other instance after %s", what, p, took)
		}
	}
	if err := sa.Delete(a.cacheKey(httpGet("/k/1"))); err != nil {
		t.Fatal(err)
	}
	check("purge by key", "/k/1")
	if _, err := sa.PurgePrefix("http://example.com/p/"); err != nil {
		t.Fatal(err)
	}
	check("purge by prefix", "/p/1", "/p/2")
	if _, err := sa.PurgeTag("tag-tag"); err != nil {
		t.Fatal(err)
	}
	check("purge by tag", "/tag/1")
	send(t, a, o, "POST", "/post/1")
	check("POST", "/post/1")
	// A store that replaces the entry (a refresh forced by the client).
	o.n.Add(1)
	if w := send(t, a, o, "GET", "/replace/1", "Cache-Control: no-cache"); w.Body.String() == bodies["/replace/1"] {
		t.Fatalf("no-cache request answered from the cache: %q", w.Body.String())
	}
	check("replacing store", "/replace/1")
	if err := sa.Flush(); err != nil {
		t.Fatal(err)
	}
	check("flush", "/flush/1")
}

// waitLocalCopy sends GET path to h until h's local tier holds it.
func waitLocalCopy(t *testing.T, h *Handler, o *origin, path string) {
	t.Helper()
	key := h.cacheKey(httpGet(path))
	deadline := time.Now().Add(5 * time.Second)
	for h.storage.(*RedisStorage).local.get(key, time.Now()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached the local tier", path)
		}
		expectStatus(t, send(t, h, o, "GET", path), labelHit)
	}
}

// httpGet is a GET for path on example.com, for computing cache keys.
func httpGet(path string) *http.Request {
	r, _ := http.NewRequest("GET", "http://example.com"+path, nil)
	r.RequestURI = path
	return r
}

// TestRedisLocalTierPartition: Redis is cut off from one instance by a
// proxy that stops forwarding (no RST, a silent partition). Within the
// staleness bound (2 heartbeats) that instance stops answering from its
// local copies — it passes requests through — and when the link comes
// back its local tier starts empty, so an entry purged meanwhile by
// another instance is not served again.
func TestRedisLocalTierPartition(t *testing.T) {
	r := startRedis(t)
	px := newPausableProxy(t, r.Addr)
	hb := 100 * time.Millisecond
	a := newHandler(t, localCfg(t, r.URL(), hb))
	cut := newHandler(t, localCfg(t, "redis://"+px.addr()+"/0", hb))
	waitLocal(t, a)
	waitLocal(t, cut)
	o := versionOrigin()
	w := send(t, a, o, "GET", "/x")
	old := w.Body.String()
	expectStatus(t, send(t, cut, o, "GET", "/x"), labelHit)
	waitLocalCopy(t, cut, o, "/x")

	px.pause()
	paused := time.Now()
	o.n.Add(1)
	// The purge on a cannot reach cut; cut must stop serving its copy
	// within the bound anyway.
	if _, err := a.storage.(*RedisStorage).PurgeURL("http://example.com/x"); err != nil {
		t.Fatal(err)
	}
	// The bound is kept by construction (the tier is not used once no
	// pong came for 2 heartbeats); the slack is for the polling loop. A
	// tier kept until the subscription is replaced (8 heartbeats) fails.
	bound, slack := localSilentFor*hb, 300*time.Millisecond
	took := time.Since(paused)
	took += waitNotServed(t, cut, o, "/x", old, 10*time.Second)
	if took > bound+slack {
		t.Errorf("the partitioned instance served its local copy for %s, bound %s", took, bound)
	}
	t.Logf("partitioned instance stopped answering from its local copy %s after the partition (bound %s)", took.Round(time.Millisecond), bound)
	if w := send(t, cut, o, "GET", "/x"); w.Code != 200 || xcs(w) == labelHit {
		t.Fatalf("during the partition: %d %s", w.Code, xcs(w))
	}

	px.resume()
	deadline := time.Now().Add(20 * time.Second)
	for !cut.storage.(*RedisStorage).local.usable(time.Now()) {
		if time.Now().After(deadline) {
			t.Fatal("local tier not back within 20 s of the partition's end")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if w := send(t, cut, o, "GET", "/x"); w.Body.String() == old {
		t.Fatalf("after the partition the purged copy is served again: %s %q", xcs(w), w.Body.String())
	}
}

// pausableProxy forwards TCP connections to a target; paused, it stops
// forwarding in both directions without closing anything (a silent
// partition).
type pausableProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	paused bool
	cond   *sync.Cond
}

func newPausableProxy(t *testing.T, target string) *pausableProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pausableProxy{ln: ln, target: target}
	p.cond = sync.NewCond(&p.mu)
	var conns []net.Conn
	var cmu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		p.resume()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			cmu.Lock()
			conns = append(conns, c, up)
			cmu.Unlock()
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
	return p
}

func (p *pausableProxy) addr() string { return p.ln.Addr().String() }

func (p *pausableProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		for p.paused {
			p.cond.Wait()
		}
		p.mu.Unlock()
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

func (p *pausableProxy) pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

func (p *pausableProxy) resume() {
	p.mu.Lock()
	p.paused = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

func TestInvalidationMessages(t *testing.T) {
	id := strings.Repeat("a", localIDLen)
	for _, c := range []struct {
		kind byte
		arg  string
	}{{invKey, "GEThttpexample.com/x"}, {invURL, "http://example.com/x"}, {invPrefix, "http://example.com/"},
		{invTag, "tag with spaces"}, {invFlush, ""}} {
		gotID, kind, arg, ok := decodeInvalidation(encodeInvalidation(id, c.kind, c.arg))
		if !ok || gotID != id || kind != c.kind || arg != c.arg {
			t.Errorf("%c %q: %q %c %q %v", c.kind, c.arg, gotID, kind, arg, ok)
		}
	}
	for _, bad := range []string{"", id, id + "x/path", id + "k", id + "fextra", "short" + "k"} {
		if _, _, _, ok := decodeInvalidation(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzDecodeInvalidation(f *testing.F) {
	id := strings.Repeat("0", localIDLen)
	for _, s := range []string{id + "kkey", id + "f", id + "uhttp://x/", id + "t", "", "\x00\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		id, kind, arg, ok := decodeInvalidation(msg)
		if !ok {
			return
		}
		if encodeInvalidation(id, kind, arg) != msg {
			t.Fatalf("%q does not round-trip", msg)
		}
	})
}
