package proxycache

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// hitAfter sends two GETs and reports the second's X-Cache-Status.
func second(t *testing.T, h *Handler, o *origin, hdr ...string) string {
	t.Helper()
	send(t, h, o, "GET", "/r", hdr...)
	return xcs(send(t, h, o, "GET", "/r", hdr...))
}

func TestFreshnessSources(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name string
		hdr  []string
		want string
	}{
		{"max-age", []string{"Cache-Control", "max-age=60"}, labelHit},
		{"s-maxage beats max-age", []string{"Cache-Control", "max-age=60, s-maxage=0"}, labelMiss},
		{"s-maxage beats max-age=0", []string{"Cache-Control", "max-age=0, s-maxage=60"}, labelHit},
		{"max-age beats Expires", []string{"Cache-Control", "max-age=60", "Expires", httpDate(now.Add(-time.Hour))}, labelHit},
		{"Expires IMF-fixdate", []string{"Date", httpDate(now), "Expires", httpDate(now.Add(time.Hour))}, labelHit},
		{"Expires RFC 850", []string{"Date", httpDate(now), "Expires", now.Add(time.Hour).UTC().Format("Monday, 02-Jan-06 15:04:05 GMT")}, labelHit},
		{"Expires RFC 850 with a zone other than GMT is stale", []string{"Date", httpDate(now), "Expires", now.Add(time.Hour).UTC().Format(time.RFC850)}, labelMiss},
		{"repeated Expires lines are stale", []string{"Date", httpDate(now), "Expires", httpDate(now.Add(time.Hour)), "Expires", httpDate(now.Add(time.Hour))}, labelMiss},
		{"Expires with a lower-case day name is stale", []string{"Date", httpDate(now), "Expires", strings.ToLower(httpDate(now.Add(time.Hour))[:1]) + httpDate(now.Add(time.Hour))[1:]}, labelMiss},
		{"Expires with an extra space is stale", []string{"Date", httpDate(now), "Expires", strings.Replace(httpDate(now.Add(time.Hour)), " ", "  ", 1)}, labelMiss},
		{"Expires asctime", []string{"Date", httpDate(now), "Expires", now.Add(time.Hour).UTC().Format(time.ANSIC)}, labelHit},
		{"Expires invalid is stale", []string{"Expires", "0"}, labelMiss},
		{"Expires in the past", []string{"Date", httpDate(now), "Expires", httpDate(now.Add(-time.Minute))}, labelMiss},
		{"Age past max-age", []string{"Cache-Control", "max-age=60", "Age", "61"}, labelExpired},
		{"Age within max-age", []string{"Cache-Control", "max-age=60", "Age", "30"}, labelHit},
		{"Age invalid ignored", []string{"Cache-Control", "max-age=60", "Age", "abc"}, labelHit},
		{"Age list uses first", []string{"Cache-Control", "max-age=60", "Age", "70, 1"}, labelExpired},
		{"heuristic from Last-Modified", []string{"Date", httpDate(now), "Last-Modified", httpDate(now.Add(-240 * time.Hour))}, labelHit},
		{"no freshness, no validator", nil, labelMiss},
		{"invalid max-age is stale", []string{"Cache-Control", "max-age=abc"}, labelMiss},
		{"huge max-age saturates", []string{"Cache-Control", "max-age=99999999999999999999"}, labelHit},
		{"duplicate max-age: first counts", []string{"Cache-Control", "max-age=60", "Cache-Control", "max-age=0"}, labelHit},
		{"no-store", []string{"Cache-Control", "no-store, max-age=60"}, labelMiss},
		{"private", []string{"Cache-Control", "private, max-age=60"}, labelMiss},
		{"Set-Cookie not stored", []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"}, labelMiss},
		{"Vary star", []string{"Cache-Control", "max-age=60", "Vary", "*"}, labelMiss},
		{"quoted commas", []string{"Cache-Control", `no-cache="a, b", max-age=60`}, labelHit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHandler(t, "")
			o := respond(200, "body", c.hdr...)
			if got := second(t, h, o); got != c.want {
				t.Errorf("second request: %s, want %s", got, c.want)
			}
		})
	}
}

func TestCacheableStatuses(t *testing.T) {
	for _, c := range []struct {
		status int
		hdr    []string
		want   string
	}{
		{404, []string{"Cache-Control", "max-age=60"}, labelHit},
		{500, []string{"Cache-Control", "max-age=60"}, labelHit},
		{302, []string{"Cache-Control", "max-age=60", "Location", "/x"}, labelHit},
		{204, []string{"Cache-Control", "max-age=60"}, labelHit},
		{206, []string{"Cache-Control", "max-age=60", "Content-Range", "bytes 0-1/10"}, labelMiss},
		{302, nil, labelMiss}, // no explicit freshness, not heuristic
		{404, []string{"Last-Modified", httpDate(time.Now().Add(-time.Hour))}, labelHit}, // heuristic status
		{302, []string{"Last-Modified", httpDate(time.Now().Add(-time.Hour))}, labelMiss},
	} {
		h := newHandler(t, `{"storage":{"module":"memory","zone":`+jsonString(t.Name()+sprint(c))+`}}`)
		o := respond(c.status, "x", c.hdr...)
		if got := second(t, h, o); got != c.want {
			t.Errorf("%d %v: second request %s, want %s", c.status, c.hdr, got, c.want)
		}
	}
}

func sprint(v any) string { return fmt.Sprint(v) }

func TestPrivateAndNoCacheFieldsNotReplayed(t *testing.T) {
	h := newHandler(t, "")
	o := respond(200, "x", "Cache-Control", `max-age=60, private="X-Secret", no-cache="X-Token"`, "X-Secret", "s", "X-Token", "t", "X-Plain", "p")
	first := send(t, h, o, "GET", "/r")
	if first.Header().Get("X-Secret") != "s" {
		t.Fatal("the miss itself must carry every field")
	}
	hit := send(t, h, o, "GET", "/r")
	expectStatus(t, hit, labelHit)
	if hit.Header().Get("X-Secret") != "" || hit.Header().Get("X-Token") != "" || hit.Header().Get("X-Plain") != "p" {
		t.Errorf("hit header: %v", hit.Header())
	}
}

func TestNoCacheRevalidatesEveryTime(t *testing.T) {
	h := newHandler(t, "")
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.Header().Set("X-Refreshed", "yes")
			w.WriteHeader(304)
			return nil
		}
		w.Write([]byte("v1 body"))
		return nil
	}
	expectStatus(t, send(t, h, o, "GET", "/r"), labelMiss)
	w := send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelRevalidated)
	if w.Code != 200 || w.Body.String() != "v1 body" || w.Header().Get("X-Refreshed") != "yes" {
		t.Errorf("revalidated answer: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	if o.n.Load() != 2 {
		t.Errorf("origin requests: %d", o.n.Load())
	}
	if !strings.Contains(w.Header().Get("Cache-Status"), "fwd=stale; fwd-status=304") {
		t.Errorf("Cache-Status %q", w.Header().Get("Cache-Status"))
	}
}

func TestRevalidationLastModifiedAndHeaderUpdate(t *testing.T) {
	h := newHandler(t, "")
	lm := httpDate(time.Now().Add(-time.Hour))
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Last-Modified", lm)
		if r.Header.Get("If-Modified-Since") == lm {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("X-Version", "2")
			w.WriteHeader(304)
			return nil
		}
		w.Header().Set("Cache-Control", "max-age=1")
		w.Header().Set("Age", "5")
		w.Header().Set("X-Version", "1")
		w.Write([]byte("body"))
		return nil
	}
	expectStatus(t, send(t, h, o, "GET", "/r"), labelMiss)
	w := send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelRevalidated)
	if w.Header().Get("X-Version") != "2" || w.Body.String() != "body" {
		t.Errorf("after 304: %v %q", w.Header(), w.Body.String())
	}
	w = send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelHit)
	if w.Header().Get("X-Version") != "2" {
		t.Errorf("stored header not updated: %v", w.Header())
	}
}

func TestRevalidateOff(t *testing.T) {
	h := newHandler(t, `{"revalidate":false}`)
	o := respond(200, "x", "Cache-Control", "max-age=1", "Age", "5", "Etag", `"a"`)
	send(t, h, o, "GET", "/r")
	expectStatus(t, send(t, h, o, "GET", "/r"), labelExpired)
	if o.last().Header.Get("If-None-Match") != "" {
		t.Error("revalidate off must not send validators")
	}
}

func TestClientConditionalAnsweredFromCache(t *testing.T) {
	h := newHandler(t, "")
	lm := httpDate(time.Now().Add(-time.Hour))
	o := respond(200, "body", "Cache-Control", "max-age=60", "Etag", `"v1"`, "Last-Modified", lm)
	// The miss: the client's conditional does not reach the origin, the
	// response is stored, and the client gets its 304.
	w := send(t, h, o, "GET", "/r", `If-None-Match: "v1"`)
	if w.Code != 304 || o.last().Header.Get("If-None-Match") != "" {
		t.Fatalf("conditional miss: %d, origin saw INM %q", w.Code, o.last().Header.Get("If-None-Match"))
	}
	for _, c := range []struct {
		hdr  string
		code int
	}{
		{`If-None-Match: "v1"`, 304},
		{`If-None-Match: W/"v1"`, 304},
		{`If-None-Match: "v0", "v1"`, 304},
		{`If-None-Match: *`, 304},
		{`If-None-Match: "v2"`, 200},
		{"If-Modified-Since: " + lm, 304},
		{"If-Modified-Since: " + httpDate(time.Now().Add(-2*time.Hour)), 200},
	} {
		w := send(t, h, o, "GET", "/r", c.hdr)
		if w.Code != c.code {
			t.Errorf("%s: %d, want %d", c.hdr, w.Code, c.code)
		}
		expectStatus(t, w, labelHit)
		if c.code == 304 && w.Body.Len() != 0 {
			t.Errorf("%s: 304 with a body", c.hdr)
		}
	}
	if o.n.Load() != 1 {
		t.Errorf("origin requests: %d, want 1", o.n.Load())
	}
}

// TestClientConditionalWithoutETagOrStorage: If-None-Match: * matches a
// response without an ETag, and a miss whose response is not stored still
// answers the client's conditionals, which it did not send on (found by
// TestProxyCacheGenerativeDiffNginx; nginx does both).
func TestClientConditionalWithoutETagOrStorage(t *testing.T) {
	h := newHandler(t, "")
	stored := respond(200, "body", "Cache-Control", "max-age=60")
	if w := send(t, h, stored, "GET", "/star", "If-None-Match: *"); w.Code != 304 {
		t.Errorf("If-None-Match: * on a miss without ETag: %d, want 304", w.Code)
	}
	if w := send(t, h, stored, "GET", "/star", "If-None-Match: *"); w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("If-None-Match: * on a hit without ETag: %d %q, want 304", w.Code, w.Body.String())
	}
	if w := send(t, h, stored, "GET", "/star", `If-None-Match: "v1"`); w.Code != 200 {
		t.Errorf(`If-None-Match: "v1" without ETag: %d, want 200`, w.Code)
	}
	unstored := respond(200, "body", "Etag", `"v1"`)
	w := send(t, h, unstored, "GET", "/nofresh", `If-None-Match: W/"v1"`)
	if w.Code != 304 || w.Body.Len() != 0 || unstored.last().Header.Get("If-None-Match") != "" {
		t.Errorf("unstored miss: %d %q, origin saw INM %q; want 304, no body, none", w.Code, w.Body.String(),
			unstored.last().Header.Get("If-None-Match"))
	}
	if w := send(t, h, unstored, "GET", "/nofresh", `If-None-Match: "v2"`); w.Code != 200 || w.Body.String() != "body" {
		t.Errorf("unstored miss, other tag: %d %q, want the 200", w.Code, w.Body.String())
	}
}

func TestHeadFromGet(t *testing.T) {
	h := newHandler(t, "")
	o := respond(200, "the body", "Cache-Control", "max-age=60")
	send(t, h, o, "GET", "/r")
	w := send(t, h, o, "HEAD", "/r")
	expectStatus(t, w, labelHit)
	if w.Body.Len() != 0 || w.Header().Get("Content-Length") != "8" {
		t.Errorf("HEAD hit: body %q, Content-Length %q", w.Body.String(), w.Header().Get("Content-Length"))
	}
	// A cold HEAD fetches with GET (nginx's proxy_cache_convert_head) and
	// fills the cache for GET.
	h2 := newHandler(t, `{"storage":{"module":"memory","zone":"head2"}}`)
	o2 := respond(200, "the body", "Cache-Control", "max-age=60")
	w = send(t, h2, o2, "HEAD", "/r")
	if o2.last().Method != "GET" || w.Body.Len() != 0 {
		t.Fatalf("cold HEAD: origin saw %s, client body %q", o2.last().Method, w.Body.String())
	}
	w = send(t, h2, o2, "GET", "/r")
	expectStatus(t, w, labelHit)
	if w.Body.String() != "the body" {
		t.Errorf("GET after HEAD: %q", w.Body.String())
	}
}

func TestAuthorization(t *testing.T) {
	h := newHandler(t, "")
	o := respond(200, "x", "Cache-Control", "max-age=60")
	if got := second(t, h, o, "Authorization: Bearer a"); got != labelMiss {
		t.Errorf("authorized request stored without public: %s", got)
	}
	// A stored response does not answer an authorized request...
	send(t, h, o, "GET", "/other")
	if got := xcs(send(t, h, o, "GET", "/other", "Authorization: Bearer a")); got != labelBypass {
		t.Errorf("authorized request answered from an entry without public: %s", got)
	}
	// ...unless it says public, s-maxage or must-revalidate.
	for _, cc := range []string{"public, max-age=60", "s-maxage=60", "must-revalidate, max-age=60"} {
		h := newHandler(t, `{"storage":{"module":"memory","zone":"auth-`+cc+`"}}`)
		o := respond(200, "x", "Cache-Control", cc)
		if got := second(t, h, o, "Authorization: Bearer a"); got != labelHit {
			t.Errorf("%s: %s, want HIT", cc, got)
		}
	}
}

func TestVary(t *testing.T) {
	h := newHandler(t, "")
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		w.Write([]byte("enc=" + r.Header.Get("Accept-Encoding")))
		return nil
	}
	expectStatus(t, send(t, h, o, "GET", "/r", "Accept-Encoding: gzip"), labelMiss)
	w := send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelMiss)
	if !strings.Contains(w.Header().Get("Cache-Status"), "fwd=vary-miss") {
		t.Errorf("Cache-Status %q", w.Header().Get("Cache-Status"))
	}
	for _, c := range []struct{ hdr, body string }{{"Accept-Encoding: gzip", "enc=gzip"}, {"", "enc="}, {"Accept-Encoding:  gzip ", "enc=gzip"}} {
		var w = send(t, h, o, "GET", "/r")
		if c.hdr != "" {
			w = send(t, h, o, "GET", "/r", c.hdr)
		}
		expectStatus(t, w, labelHit)
		if w.Body.String() != c.body {
			t.Errorf("%q: body %q, want %q", c.hdr, w.Body.String(), c.body)
		}
	}
	if o.n.Load() != 2 {
		t.Errorf("origin requests %d, want 2", o.n.Load())
	}
}

func TestRequestDirectives(t *testing.T) {
	mk := func(t *testing.T, age string) (*Handler, *origin) {
		h := newHandler(t, `{"storage":{"module":"memory","zone":"req-`+t.Name()+`"}}`)
		o := respond(200, "x", "Cache-Control", "max-age=100", "Age", age)
		expectStatus(t, send(t, h, o, "GET", "/r"), labelMiss)
		return h, o
	}
	t.Run("max-age", func(t *testing.T) {
		h, o := mk(t, "50")
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: max-age=60"), labelHit)
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: max-age=10"), labelExpired)
	})
	t.Run("min-fresh", func(t *testing.T) {
		h, o := mk(t, "50")
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: min-fresh=10"), labelHit)
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: min-fresh=80"), labelExpired)
	})
	t.Run("min-fresh beats stale-while-revalidate", func(t *testing.T) {
		h := newHandler(t, "")
		o := respond(200, "x", "Cache-Control", "max-age=100, stale-while-revalidate=100", "Age", "50")
		send(t, h, o, "GET", "/r")
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: min-fresh=80"), labelExpired)
		if o.n.Load() != 2 {
			t.Errorf("origin requests %d, want 2", o.n.Load())
		}
	})
	t.Run("max-stale", func(t *testing.T) {
		h, o := mk(t, "150")
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: max-stale=100"), labelStale)
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: max-stale"), labelStale)
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: max-stale=10"), labelExpired)
	})
	t.Run("no-cache", func(t *testing.T) {
		h, o := mk(t, "0")
		w := send(t, h, o, "GET", "/r", "Cache-Control: no-cache")
		expectStatus(t, w, labelExpired)
		if !strings.Contains(w.Header().Get("Cache-Status"), "fwd=request") {
			t.Errorf("Cache-Status %q", w.Header().Get("Cache-Status"))
		}
	})
	t.Run("no-store", func(t *testing.T) {
		h := newHandler(t, "")
		o := respond(200, "x", "Cache-Control", "max-age=100")
		send(t, h, o, "GET", "/r", "Cache-Control: no-store")
		expectStatus(t, send(t, h, o, "GET", "/r"), labelMiss)
	})
	t.Run("only-if-cached", func(t *testing.T) {
		h := newHandler(t, "")
		o := respond(200, "x", "Cache-Control", "max-age=100")
		if w := send(t, h, o, "GET", "/r", "Cache-Control: only-if-cached"); w.Code != 504 || o.n.Load() != 0 {
			t.Fatalf("only-if-cached miss: %d, origin %d", w.Code, o.n.Load())
		}
		send(t, h, o, "GET", "/r")
		expectStatus(t, send(t, h, o, "GET", "/r", "Cache-Control: only-if-cached"), labelHit)
	})
}

// failing answers with a proxy error (as reverse_proxy does when the
// upstream is down) from call number failFrom on.
func failing(hdr ...string) *origin {
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		if o.n.Load() > 1 {
			return caddyhttp.Error(http.StatusBadGateway, errors.New("dial tcp: connection refused"))
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Write([]byte("good"))
		return nil
	}
	return o
}

func TestStaleOnError(t *testing.T) {
	t.Run("use_stale error", func(t *testing.T) {
		h := newHandler(t, `{"use_stale":["error"]}`)
		o := failing("Cache-Control", "max-age=1", "Age", "5")
		send(t, h, o, "GET", "/r")
		w := send(t, h, o, "GET", "/r")
		expectStatus(t, w, labelStale)
		if w.Code != 200 || w.Body.String() != "good" {
			t.Errorf("stale answer %d %q", w.Code, w.Body.String())
		}
	})
	t.Run("without use_stale", func(t *testing.T) {
		h := newHandler(t, "")
		o := failing("Cache-Control", "max-age=1", "Age", "5")
		send(t, h, o, "GET", "/r")
		if w := send(t, h, o, "GET", "/r"); w.Code != 502 {
			t.Errorf("got %d, want 502", w.Code)
		}
	})
	t.Run("must-revalidate forbids stale", func(t *testing.T) {
		h := newHandler(t, `{"use_stale":["error"]}`)
		o := failing("Cache-Control", "max-age=1, must-revalidate", "Age", "5")
		send(t, h, o, "GET", "/r")
		if w := send(t, h, o, "GET", "/r"); w.Code != 502 {
			t.Errorf("got %d, want 502", w.Code)
		}
	})
	t.Run("proxy-revalidate forbids stale", func(t *testing.T) {
		h := newHandler(t, `{"use_stale":["error"]}`)
		o := failing("Cache-Control", "max-age=1, proxy-revalidate", "Age", "5")
		send(t, h, o, "GET", "/r")
		if w := send(t, h, o, "GET", "/r"); w.Code != 502 {
			t.Errorf("got %d, want 502", w.Code)
		}
	})
	t.Run("stale-if-error", func(t *testing.T) {
		h := newHandler(t, "")
		o := failing("Cache-Control", "max-age=1, stale-if-error=60", "Age", "5")
		send(t, h, o, "GET", "/r")
		expectStatus(t, send(t, h, o, "GET", "/r"), labelStale)
	})
	t.Run("stale-if-error window passed", func(t *testing.T) {
		h := newHandler(t, "")
		o := failing("Cache-Control", "max-age=1, stale-if-error=2", "Age", "5")
		send(t, h, o, "GET", "/r")
		if w := send(t, h, o, "GET", "/r"); w.Code != 502 {
			t.Errorf("got %d, want 502", w.Code)
		}
	})
	t.Run("use_stale http_500", func(t *testing.T) {
		h := newHandler(t, `{"use_stale":["http_500"]}`)
		o := &origin{}
		o.serve = func(w http.ResponseWriter, r *http.Request) error {
			if o.n.Load() > 1 {
				w.Header().Set("X-Broken", "1")
				w.WriteHeader(500)
				w.Write([]byte("broken"))
				return nil
			}
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Age", "5")
			w.Write([]byte("good"))
			return nil
		}
		send(t, h, o, "GET", "/r")
		w := send(t, h, o, "GET", "/r")
		expectStatus(t, w, labelStale)
		if w.Code != 200 || w.Body.String() != "good" || w.Header().Get("X-Broken") != "" {
			t.Errorf("stale answer %d %q %v", w.Code, w.Body.String(), w.Header())
		}
	})
	t.Run("use_stale timeout", func(t *testing.T) {
		h := newHandler(t, `{"use_stale":["timeout"]}`)
		o := &origin{}
		o.serve = func(w http.ResponseWriter, r *http.Request) error {
			if o.n.Load() > 1 {
				return caddyhttp.Error(http.StatusGatewayTimeout, errors.New("i/o timeout"))
			}
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Age", "5")
			w.Write([]byte("good"))
			return nil
		}
		send(t, h, o, "GET", "/r")
		expectStatus(t, send(t, h, o, "GET", "/r"), labelStale)
	})
}

func TestStaleWhileRevalidate(t *testing.T) {
	h := newHandler(t, "")
	var mu sync.Mutex
	version := "1"
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		mu.Lock()
		v := version
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=60")
		if v == "1" {
			w.Header().Set("Age", "61")
		}
		w.Write([]byte("v" + v))
		return nil
	}
	send(t, h, o, "GET", "/r")
	mu.Lock()
	version = "2"
	mu.Unlock()
	w := send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelStale)
	if w.Body.String() != "v1" {
		t.Fatalf("stale body %q", w.Body.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for o.n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var got *httpRecorder
	for time.Now().Before(deadline) {
		w = send(t, h, o, "GET", "/r")
		if xcs(w) == labelHit {
			got = &httpRecorder{w.Body.String()}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got == nil || got.body != "v2" {
		t.Fatalf("after the background refresh: %v", got)
	}
	if n := o.n.Load(); n != 2 {
		t.Errorf("origin requests %d, want 2 (one background refresh)", n)
	}
}

type httpRecorder struct{ body string }

func TestInvalidation(t *testing.T) {
	h := newHandler(t, "")
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == "POST" {
			w.Header().Set("Location", "/created")
			w.Header().Set("Content-Location", "http://example.com/loc")
			w.WriteHeader(201)
			return nil
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte(r.URL.Path))
		return nil
	}
	for _, p := range []string{"/items", "/created", "/loc", "/other"} {
		send(t, h, o, "GET", p)
		expectStatus(t, send(t, h, o, "GET", p), labelHit)
	}
	send(t, h, o, "POST", "/items")
	for p, want := range map[string]string{"/items": labelMiss, "/created": labelMiss, "/loc": labelMiss, "/other": labelHit} {
		expectStatus(t, send(t, h, o, "GET", p), want)
	}
	// A failed unsafe request invalidates nothing.
	o2 := respond(500, "no")
	send(t, h, o2, "DELETE", "/other")
	expectStatus(t, send(t, h, o, "GET", "/other"), labelHit)
}

func TestSetCookie(t *testing.T) {
	h := newHandler(t, `{"ignore_headers":["Set-Cookie"]}`)
	o := respond(200, "x", "Cache-Control", "max-age=60", "Set-Cookie", "session=secret")
	if w := send(t, h, o, "GET", "/r"); w.Header().Get("Set-Cookie") != "session=secret" {
		t.Fatal("the miss must pass its cookie")
	}
	w := send(t, h, o, "GET", "/r")
	expectStatus(t, w, labelHit)
	if w.Header().Get("Set-Cookie") != "" {
		t.Errorf("a stored cookie was replayed: %q", w.Header().Get("Set-Cookie"))
	}
}
