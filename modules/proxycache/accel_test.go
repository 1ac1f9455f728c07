package proxycache

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestParseAccelExpires(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	for _, c := range []struct {
		in   string
		want accelVerdict
		ttl  time.Duration
	}{
		{"", accelNone, 0},
		{"0", accelNoStore, 0},
		{"10", accelLifetime, 10 * time.Second},
		{"99999999999999999999", accelLifetime, maxDelta},
		{"@1000060", accelLifetime, time.Minute},
		{"@1000", accelLifetime, 0}, // in the past: already stale
		{"@0", accelLifetime, 0},
		{"@", accelNone, 0},
		{"@99999999999", accelLifetime, maxDelta},
		{"@99999999999999999999", accelNone, 0}, // overflows: nginx's ngx_atoi fails too
		{"@1000060 ", accelNone, 0},
		{"-5", accelNone, 0}, // nginx's ngx_atoi takes no sign
		{"+5", accelNone, 0},
		{" 5", accelNone, 0},
		{"5s", accelNone, 0},
		{"abc", accelNone, 0},
		{"@abc", accelNone, 0},
	} {
		v, ttl := parseAccelExpires(c.in, now)
		if v != c.want || ttl != c.ttl {
			t.Errorf("parseAccelExpires(%q) = %v, %v; want %v, %v", c.in, v, ttl, c.want, c.ttl)
		}
	}
}

// TestAccelExpires checks X-Accel-Expires against what nginx 1.22 does
// (measured): it overrides Cache-Control, Expires and valid, 0 means never
// stored, invalid values are ignored, and the field never reaches clients.
func TestAccelExpires(t *testing.T) {
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	for _, c := range []struct {
		name   string
		cfg    string
		hdr    []string
		second string // X-Cache-Status of the second request
		ttl    int    // with second == HIT: about this many seconds left
	}{
		{"overrides no-store", "", []string{"X-Accel-Expires", "10", "Cache-Control", "no-store"}, labelHit, 10},
		{"overrides no-store, in any order", "", []string{"Cache-Control", "no-store", "X-Accel-Expires", "10"}, labelHit, 10},
		{"overrides private", "", []string{"Cache-Control", "private", "X-Accel-Expires", "10"}, labelHit, 10},
		{"overrides no-cache", "", []string{"Cache-Control", "no-cache", "Etag", `"a"`, "X-Accel-Expires", "10"}, labelHit, 10},
		{"overrides max-age", "", []string{"Cache-Control", "max-age=5", "X-Accel-Expires", "100"}, labelHit, 100},
		{"overrides Expires", "", []string{"Expires", "0", "X-Accel-Expires", "100"}, labelHit, 100},
		{"overrides valid", `{"valid":{"200":"1h"}}`, []string{"X-Accel-Expires", "100"}, labelHit, 100},
		{"counts from storage, not Age", "", []string{"Age", "50", "X-Accel-Expires", "100"}, labelHit, 100},
		{"absolute time", "", []string{"X-Accel-Expires", "@" + future}, labelHit, 3600},
		{"0 forbids max-age", "", []string{"Cache-Control", "max-age=60", "X-Accel-Expires", "0"}, labelMiss, 0},
		{"0 forbids valid", `{"valid":{"200":"1h"}}`, []string{"X-Accel-Expires", "0"}, labelMiss, 0},
		{"absolute past: stale at once", "", []string{"Cache-Control", "max-age=60", "X-Accel-Expires", "@1000"}, labelMiss, 0},
		{"invalid ignored", "", []string{"Cache-Control", "max-age=60", "X-Accel-Expires", "abc"}, labelHit, 60},
		{"negative ignored", "", []string{"X-Accel-Expires", "-5"}, labelMiss, 0},
		{"Set-Cookie still forbids", "", []string{"Set-Cookie", "a=b", "X-Accel-Expires", "10"}, labelMiss, 0},
		{"ignored: 0 does nothing", `{"ignore_headers":["X-Accel-Expires"]}`, []string{"Cache-Control", "max-age=60", "X-Accel-Expires", "0"}, labelHit, 60},
		{"ignored: lifetime does nothing", `{"ignore_headers":["X-Accel-Expires"]}`, []string{"Cache-Control", "no-store", "X-Accel-Expires", "10"}, labelMiss, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHandler(t, c.cfg)
			o := respond(200, "body", c.hdr...)
			w := send(t, h, o, "GET", "/x")
			if got := w.Header().Get(accelExpires); got != "" {
				t.Errorf("MISS passed X-Accel-Expires %q to the client", got)
			}
			w = send(t, h, o, "GET", "/x")
			expectStatus(t, w, c.second)
			if got := w.Header().Get(accelExpires); got != "" {
				t.Errorf("second answer passed X-Accel-Expires %q to the client", got)
			}
			if c.second == labelHit {
				want := "Frontdesk; hit; ttl=" + strconv.Itoa(c.ttl)
				want1 := "Frontdesk; hit; ttl=" + strconv.Itoa(c.ttl-1)
				if cs := w.Header().Get("Cache-Status"); cs != want && cs != want1 {
					t.Errorf("Cache-Status %q, want %q", cs, want)
				}
			}
		})
	}
}

// TestAccelExpiresOn304 checks that a 304 refreshing an entry may set its
// new lifetime with X-Accel-Expires, and that the field is not stored.
func TestAccelExpiresOn304(t *testing.T) {
	h := newHandler(t, "")
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.Header().Set(accelExpires, "300")
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		w.Header().Set("Cache-Control", "max-age=0")
		w.Write([]byte("body"))
		return nil
	}
	send(t, h, o, "GET", "/r")
	w := send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelRevalidated)
	if w.Header().Get(accelExpires) != "" {
		t.Errorf("X-Accel-Expires passed on: %v", w.Header())
	}
	w = send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelHit)
	if o.n.Load() != 2 {
		t.Errorf("origin requests %d, want 2", o.n.Load())
	}
}

// TestLockAge: a lock holder slower than lock_age lets one more request go
// to the origin (and store its answer); a request that comes after both
// holders were given their turn waits and is answered from the cache.
func TestLockAge(t *testing.T) {
	h := newHandler(t, `{"lock":true,"lock_age":"100ms","lock_timeout":"10s"}`)
	release := make(chan struct{})
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		n := o.n.Load()
		if n == 1 {
			<-release
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("answer " + strconv.FormatInt(n, 10)))
		return nil
	}
	var wg sync.WaitGroup
	results := make([]string, 3)
	status := make([]string, 3)
	results[0] = "answer 1"
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := send(t, h, o, "GET", "/slow")
			results[i], status[i] = w.Body.String(), w.Header().Get("Cache-Status")
		}()
	}
	first := make(chan struct{})
	go func() {
		send(t, h, o, "GET", "/slow")
		close(first)
	}()
	for o.n.Load() < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	start(1) // waits lock_age, then takes the lock over
	start(2) // waits lock_age, then for the second holder
	wg.Wait()
	if o.n.Load() != 2 {
		t.Fatalf("origin requests %d, want 2 (%q)", o.n.Load(), results)
	}
	if results[1] != "answer 2" && results[2] != "answer 2" {
		t.Errorf("no request took the lock over: %q", results)
	}
	took := 0
	for _, s := range status {
		if s == "Frontdesk; fwd=uri-miss; fwd-status=200; stored; collapsed; detail=lock-age" {
			took++
		}
	}
	if took != 1 {
		t.Errorf("Cache-Status %q: want one lock-age take-over", status)
	}
	w := send(t, h, o, "GET", "/slow")
	expectStatus(t, w, labelHit)
	if w.Body.String() != "answer 2" {
		t.Errorf("stored %q, want the second holder's answer", w.Body.String())
	}
	close(release)
	<-first
}

// TestAccelExpiresNotPassedOnUnsafe: the field is kept from the client on
// the unsafe methods the cache passes on too (nginx hides it from every
// proxied response).
func TestAccelExpiresNotPassedOnUnsafe(t *testing.T) {
	h := newHandler(t, "")
	for _, o := range []*origin{
		respond(200, "done", accelExpires, "10"),
		{serve: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set(accelExpires, "10")
			w.Write([]byte("implicit 200"))
			return nil
		}},
	} {
		w := send(t, h, o, "POST", "/p")
		if w.Header().Get(accelExpires) != "" || w.Code != 200 {
			t.Errorf("POST: %d %v", w.Code, w.Header())
		}
	}
}
