package proxycache

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/httpsyntax"
)

func TestParseCacheControl(t *testing.T) {
	d := parseCacheControl([]string{`Max-Age=60, no-cache="Set-Cookie, X-A", private`, `max-age=5, s-maxage="30"`, `,, =x, stale-if-error=10`})
	want := map[string]string{"max-age": "60", "no-cache": "Set-Cookie, X-A", "private": "", "s-maxage": "30", "stale-if-error": "10"}
	for k, v := range want {
		if got, ok := d[k]; !ok || got != v {
			t.Errorf("%s = %q (%v), want %q", k, got, ok, v)
		}
	}
	if f := d.fields("no-cache"); strings.Join(f, "|") != "Set-Cookie|X-A" {
		t.Errorf("fields %v", f)
	}
	if len(d) != len(want) {
		t.Errorf("extra directives: %v", d)
	}
	// Whitespace around "=" makes the member malformed, as nginx reads it
	// (found by TestProxyCacheGenerativeDiffNginx); around commas it is
	// the list's OWS.
	d = parseCacheControl([]string{"max-age = 60, s-maxage =5, private= x ,no-store , public"})
	if len(d) != 2 || !d.has("no-store") || !d.has("public") {
		t.Errorf("whitespace around =: %v, want only no-store and public", d)
	}
}

func TestParseVaryAndAge(t *testing.T) {
	names, star := parseVary([]string{"accept-encoding, Accept-Language", " , ACCEPT-ENCODING", "bad field"})
	if star || strings.Join(names, ",") != "Accept-Encoding,Accept-Language" {
		t.Errorf("vary %v %v", names, star)
	}
	if _, star := parseVary([]string{"Accept, *"}); !star {
		t.Error("Vary * not seen")
	}
	for in, want := range map[string]time.Duration{"5": 5 * time.Second, "7, 9": 7 * time.Second, " 3 ": 3 * time.Second} {
		if got, ok := parseAge([]string{in}); !ok || got != want {
			t.Errorf("Age %q: %v %v", in, got, ok)
		}
	}
	for _, bad := range []string{"-1", "abc", "", "1.5"} {
		if _, ok := parseAge([]string{bad}); ok {
			t.Errorf("Age %q accepted", bad)
		}
	}
	if d, ok := parseDelta("99999999999999999999999"); !ok || d != maxDelta {
		t.Errorf("overflow: %v %v", d, ok)
	}
}

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60", `no-cache="a, b", private`, `s-maxage="x`, `=,=,`, `max-age=99999999999999999999999`,
		"stale-while-revalidate=30, stale-if-error=60", `a="\`, `no-cache=""`, "MAX-AGE=1", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := parseCacheControl([]string{s})
		for k := range d {
			if k == "" || strings.ToLower(k) != k {
				t.Fatalf("bad directive name %q", k)
			}
			d.delta(k)
			d.fields(k)
		}
	})
}

func FuzzParseVary(f *testing.F) {
	for _, s := range []string{"Accept-Encoding", "*", "a, b, *", ",,", "bad field, ok", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, _ := parseVary([]string{s})
		for _, n := range names {
			if !httpsyntax.IsToken(n) {
				t.Fatalf("invalid name %q", n)
			}
		}
		normalizeFieldValue([]string{s})
	})
}

func FuzzParseDates(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "0", "-1", "5, 6", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parseHTTPDate(s)
		if d, ok := parseAge([]string{s}); ok && (d < 0 || d > maxDelta) {
			t.Fatalf("age %v out of range", d)
		}
	})
}

// FuzzResponseHeaders sends responses with arbitrary caching headers through
// the handler twice: nothing panics, and a hit always carries the stored body.
func FuzzResponseHeaders(f *testing.F) {
	now := time.Now().UTC().Format(http.TimeFormat)
	f.Add("max-age=60", "", "", "", "", 200)
	f.Add("no-cache", "0", "abc", "*", now, 200)
	f.Add(`private="X", s-maxage=5`, now, "5, 6", "Accept", "garbage", 404)
	f.Add("stale-while-revalidate=10, max-age=0", "Thu, 01 Jan 1970 00:00:00 GMT", "-1", ",,", now, 500)
	f.Add("max-age=99999999999999999999", "", "99999999999999999999", "", "", 301)
	f.Fuzz(func(t *testing.T, cc, expires, age, vary, lastMod string, status int) {
		if status < 200 || status > 599 || status == 304 {
			status = 200
		}
		clean := func(s string) string {
			return strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f || r > 0x7e {
					return -1
				}
				return r
			}, s)
		}
		h := newHandler(t, `{"use_stale":["error","updating"],"storage":{"module":"memory","zone":"fuzz"}}`)
		o := respond(status, "stored-body", "Cache-Control", clean(cc), "Expires", clean(expires), "Age", clean(age), "Vary", clean(vary), "Last-Modified", clean(lastMod), "Etag", `"e"`)
		send(t, h, o, "GET", "/f")
		w := send(t, h, o, "GET", "/f", "Accept: x")
		if xcs(w) == labelHit && bodyAllowed(status) && w.Body.String() != "stored-body" {
			t.Fatalf("hit with body %q", w.Body.String())
		}
		h.storage.Delete(h.cacheKey(reqFor("GET", "http://example.com/f")))
	})
}

// FuzzParseRange: any Range value against any size gives ranges inside the
// representation, in the order asked, never more bytes than it has in all.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-4", "bytes=-3", "bytes=20-", "bytes=0-1,4-5", "bytes=5-1", "bytes=-0",
		"bytes=abc", "items=0-1", "bytes= 1 - 2 ,", "bytes=99999999999999999999-", "BYTES=0-0,-1"} {
		f.Add(s, int64(26))
	}
	f.Add("bytes=0-", int64(0))
	f.Fuzz(func(t *testing.T, spec string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			size = 0
		}
		ranges, v := parseRange(spec, size)
		var total int64
		for _, r := range ranges {
			if r.start < 0 || r.start >= r.end || r.end > size {
				t.Fatalf("%q of %d: range %v out of bounds", spec, size, r)
			}
			total += r.end - r.start
		}
		if (v == rangePartial) != (len(ranges) > 0) || total > size {
			t.Fatalf("%q of %d: %v %v", spec, size, v, ranges)
		}
	})
}

// FuzzAccelExpires: any X-Accel-Expires value gives a lifetime from 0 to
// 2^31 s, and never a panic.
func FuzzAccelExpires(f *testing.F) {
	for _, s := range []string{"0", "10", "@1000", "@", "-5", "abc", "99999999999999999999", "@99999999999999999999"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if _, d := parseAccelExpires(s, now); d < 0 || d > maxDelta {
			t.Fatalf("%q: lifetime %v", s, d)
		}
	})
}
