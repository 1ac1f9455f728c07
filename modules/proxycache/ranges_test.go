package proxycache

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestParseRange pins parseRange to what nginx 1.22's range filter did
// with a 26-byte cached body (measured).
func TestParseRange(t *testing.T) {
	type br = byteRange
	for _, c := range []struct {
		spec string
		want []byteRange
		v    rangeVerdict
	}{
		{"bytes=0-4", []br{{0, 5}}, rangePartial},
		{"BYTES=0-4", []br{{0, 5}}, rangePartial},
		{"bytes=6-10", []br{{6, 11}}, rangePartial},
		{"bytes=-3", []br{{23, 26}}, rangePartial},
		{"bytes=-100", []br{{0, 26}}, rangePartial},
		{"bytes=20-", []br{{20, 26}}, rangePartial},
		{"bytes=20-100", []br{{20, 26}}, rangePartial},
		{"bytes= 0 - 1 , 4-5", []br{{0, 2}, {4, 6}}, rangePartial},
		{"bytes=0-1,4-5", []br{{0, 2}, {4, 6}}, rangePartial},
		{"bytes=4-5,0-1", []br{{4, 6}, {0, 2}}, rangePartial}, // order kept
		{"bytes=0-5,3-8", []br{{0, 6}, {3, 9}}, rangePartial}, // overlaps kept
		{"bytes=0-1,100-200", []br{{0, 2}}, rangePartial},     // unsatisfiable one skipped
		{"bytes=5-1,0-1", []br{{0, 2}}, rangePartial},
		{"bytes=0-25,0-25", nil, rangeWhole}, // more than the whole
		{"items=0-1", nil, rangeWhole},
		{"", nil, rangeWhole},
		{"bytes=100-", nil, rangeUnsatisfiable},
		{"bytes=26-", nil, rangeUnsatisfiable},
		{"bytes=5-1", nil, rangeUnsatisfiable},
		{"bytes=-0", nil, rangeUnsatisfiable},
		{"bytes=abc", nil, rangeUnsatisfiable},
		{"bytes=", nil, rangeUnsatisfiable},
		{"bytes=-", nil, rangeUnsatisfiable},
		{"bytes=1-2-3", nil, rangeUnsatisfiable},
		{"bytes=0-1,", nil, rangeUnsatisfiable},
		{"bytes=99999999999999999999-", nil, rangeUnsatisfiable},
	} {
		got, v := parseRange(c.spec, 26)
		if v != c.v || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseRange(%q) = %v, %v; want %v, %v", c.spec, got, v, c.want, c.v)
		}
	}
	if _, v := parseRange("bytes=0-", 0); v != rangeUnsatisfiable {
		t.Errorf("an empty body: %v", v)
	}
}

const rangeBody = "hello world 0123456789 n=1" // 26 bytes, as in the nginx runs

func rangeOrigin() *origin {
	return respond(200, rangeBody, "Cache-Control", "max-age=60", "Content-Type", "text/plain",
		"Etag", `"abc"`, "Last-Modified", "Tue, 01 Jan 2019 00:00:00 GMT", "Content-Length", "26")
}

// TestRangeFromCache: a stored 200 answers Range requests with 206 (one
// range, or multipart/byteranges for several), 416 when nothing is
// satisfiable, and the whole 200 when If-Range does not hold.
func TestRangeFromCache(t *testing.T) {
	h := newHandler(t, "")
	o := rangeOrigin()
	send(t, h, o, "GET", "/r")
	for _, c := range []struct {
		name   string
		method string
		hdr    []string
		code   int
		cr     string // Content-Range
		body   string
	}{
		{"single", "GET", []string{"Range: bytes=6-10"}, 206, "bytes 6-10/26", "world"},
		{"suffix", "GET", []string{"Range: bytes=-3"}, 206, "bytes 23-25/26", "n=1"},
		{"open", "GET", []string{"Range: bytes=20-"}, 206, "bytes 20-25/26", "89 n=1"},
		{"HEAD", "HEAD", []string{"Range: bytes=0-1"}, 206, "bytes 0-1/26", ""},
		{"unsatisfiable", "GET", []string{"Range: bytes=100-"}, 416, "bytes */26", ""},
		{"malformed", "GET", []string{"Range: bytes=abc"}, 416, "bytes */26", ""},
		{"other unit", "GET", []string{"Range: items=0-1"}, 200, "", rangeBody},
		{"If-Range etag holds", "GET", []string{"Range: bytes=0-1", `If-Range: "abc"`}, 206, "bytes 0-1/26", "he"},
		{"If-Range etag differs", "GET", []string{"Range: bytes=0-1", `If-Range: "zzz"`}, 200, "", rangeBody},
		{"If-Range weak etag", "GET", []string{"Range: bytes=0-1", `If-Range: W/"abc"`}, 200, "", rangeBody},
		{"If-Range date holds", "GET", []string{"Range: bytes=0-1", "If-Range: Tue, 01 Jan 2019 00:00:00 GMT"}, 206, "bytes 0-1/26", "he"},
		{"If-Range date later", "GET", []string{"Range: bytes=0-1", "If-Range: Wed, 01 Jan 2020 00:00:00 GMT"}, 200, "", rangeBody},
		{"If-None-Match first", "GET", []string{"Range: bytes=0-1", `If-None-Match: "abc"`}, 304, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := send(t, h, o, c.method, "/r", c.hdr...)
			expectStatus(t, w, labelHit)
			if w.Code != c.code || w.Header().Get("Content-Range") != c.cr || w.Body.String() != c.body {
				t.Fatalf("%d %q %q, want %d %q %q", w.Code, w.Header().Get("Content-Range"), w.Body.String(), c.code, c.cr, c.body)
			}
			if c.code == 206 && c.method == "GET" && w.Header().Get("Content-Length") != strconv.Itoa(len(c.body)) {
				t.Errorf("Content-Length %q", w.Header().Get("Content-Length"))
			}
		})
	}
	w := send(t, h, o, "GET", "/r")
	if w.Code != 200 || w.Body.String() != rangeBody || w.Header().Get("Content-Length") != "26" || w.Header().Get("Content-Range") != "" {
		t.Fatalf("plain hit after ranges: %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	if o.n.Load() != 1 {
		t.Errorf("origin requests %d, want 1", o.n.Load())
	}
}

// TestMultipleRangesFromCache: several ranges give a multipart/byteranges
// body in the requested order, each part with the stored Content-Type.
func TestMultipleRangesFromCache(t *testing.T) {
	h := newHandler(t, "")
	o := rangeOrigin()
	send(t, h, o, "GET", "/m")
	w := send(t, h, o, "GET", "/m", "Range: bytes=4-5,0-1")
	if w.Code != 206 {
		t.Fatalf("status %d", w.Code)
	}
	parts := readMultipart(t, w.Header(), w.Body.Bytes())
	want := [][2]string{{"bytes 4-5/26", "o "}, {"bytes 0-1/26", "he"}}
	if !reflect.DeepEqual(parts, want) {
		t.Fatalf("parts %q, want %q", parts, want)
	}
	if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
		t.Errorf("Content-Length %s, body %d bytes", cl, w.Body.Len())
	}
}

// readMultipart returns the Content-Range and body of each part of a
// multipart/byteranges response, checking each part's Content-Type.
func readMultipart(t *testing.T, hdr http.Header, body []byte) [][2]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(hdr.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q", hdr.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
	var parts [][2]string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("part Content-Type %q", p.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, [2]string{p.Header.Get("Content-Range"), string(b)})
	}
	return parts
}

// TestRangeOnMiss: as nginx does, a Range request that misses fetches the
// whole response (without Range), stores it and answers the range from the
// stream; several ranges get the whole 200; a request whose response is
// not to be stored passes its Range on.
func TestRangeOnMiss(t *testing.T) {
	for _, c := range []struct {
		name string
		hdr  []string
		code int
		cr   string
		body string
	}{
		{"single", []string{"Range: bytes=6-10"}, 206, "bytes 6-10/26", "world"},
		{"suffix", []string{"Range: bytes=-3"}, 206, "bytes 23-25/26", "n=1"},
		{"several: whole", []string{"Range: bytes=0-1,4-5"}, 200, "", rangeBody},
		{"unsatisfiable", []string{"Range: bytes=100-"}, 416, "bytes */26", ""},
		{"If-Range differs", []string{"Range: bytes=0-1", `If-Range: "zzz"`}, 200, "", rangeBody},
		{"If-Range holds", []string{"Range: bytes=0-1", `If-Range: "abc"`}, 206, "bytes 0-1/26", "he"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHandler(t, "")
			o := rangeOrigin()
			w := send(t, h, o, "GET", "/miss", c.hdr...)
			expectStatus(t, w, labelMiss)
			if got := o.last().Header.Get("Range") + o.last().Header.Get("If-Range"); got != "" {
				t.Errorf("origin got Range / If-Range %q", got)
			}
			if w.Code != c.code || w.Header().Get("Content-Range") != c.cr || w.Body.String() != c.body {
				t.Fatalf("%d %q %q, want %d %q %q", w.Code, w.Header().Get("Content-Range"), w.Body.String(), c.code, c.cr, c.body)
			}
			if c.code == 206 && w.Header().Get("Content-Length") != strconv.Itoa(len(c.body)) {
				t.Errorf("Content-Length %q", w.Header().Get("Content-Length"))
			}
			w = send(t, h, o, "GET", "/miss")
			expectStatus(t, w, labelHit)
			if w.Code != 200 || w.Body.String() != rangeBody {
				t.Fatalf("stored %d %q", w.Code, w.Body.String())
			}
		})
	}

	t.Run("not stored: Range passed on", func(t *testing.T) {
		h := newHandler(t, "")
		o := rangeOrigin()
		send(t, h, o, "GET", "/pass", "Range: bytes=0-1", "Cache-Control: no-store")
		if got := o.last().Header.Get("Range"); got != "bytes=0-1" {
			t.Errorf("origin got Range %q", got)
		}
	})

	t.Run("unknown length: whole", func(t *testing.T) {
		h := newHandler(t, "")
		o := &origin{serve: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Write([]byte("hello "))
			w.(http.Flusher).Flush()
			w.Write([]byte("world"))
			return nil
		}}
		w := send(t, h, o, "GET", "/chunked", "Range: bytes=0-1")
		if w.Code != 200 || w.Body.String() != "hello world" {
			t.Fatalf("%d %q", w.Code, w.Body.String())
		}
		w = send(t, h, o, "GET", "/chunked", "Range: bytes=0-1")
		if w.Code != 206 || w.Body.String() != "he" {
			t.Fatalf("from the cache: %d %q", w.Code, w.Body.String())
		}
	})

	t.Run("range across writes, HEAD", func(t *testing.T) {
		h := newHandler(t, "")
		o := &origin{serve: func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Length", "11")
			for _, p := range []string{"hel", "lo ", "wor", "ld"} {
				w.Write([]byte(p))
			}
			return nil
		}}
		w := send(t, h, o, "GET", "/writes", "Range: bytes=2-7")
		if w.Code != 206 || w.Body.String() != "llo wo" || w.Header().Get("Content-Range") != "bytes 2-7/11" {
			t.Fatalf("%d %q %v", w.Code, w.Body.String(), w.Header())
		}
		h2 := newHandler(t, `{"storage":{"module":"memory","zone":"range-head"}}`)
		w = send(t, h2, o, "HEAD", "/writes", "Range: bytes=2-7")
		if w.Code != 206 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "6" {
			t.Fatalf("HEAD %d %q %v", w.Code, w.Body.String(), w.Header())
		}
	})
}

// TestPlainHitAllocations keeps a plain hit at the one allocation it makes
// (the response's copy of the stored values): Range support looks its
// field up without allocating.
func TestPlainHitAllocations(t *testing.T) {
	h := newHandler(t, "")
	o := respond(200, "body", "Cache-Control", "max-age=3600", "Content-Type", "text/plain")
	r := httptest.NewRequest("GET", "/alloc", nil)
	r.Host = "example.com"
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{}))
	h.ServeHTTP(httptest.NewRecorder(), r, o)
	w := &discardResponse{header: http.Header{}}
	allocs := testing.AllocsPerRun(200, func() {
		clear(w.header)
		if err := h.ServeHTTP(w, r, o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("a plain hit allocates %v times, want 1", allocs)
	}
}

// TestRangeThroughDisk: ranges on a miss and from a disk storage.
func TestRangeThroughDisk(t *testing.T) {
	h := newHandler(t, `{"storage":{"module":"disk","path":`+jsonString(t.TempDir())+`}}`)
	o := rangeOrigin()
	w := send(t, h, o, "GET", "/d", "Range: bytes=0-4")
	if w.Code != 206 || w.Body.String() != "hello" {
		t.Fatalf("miss: %d %q", w.Code, w.Body.String())
	}
	w = send(t, h, o, "GET", "/d", "Range: bytes=-3")
	expectStatus(t, w, labelHit)
	if w.Code != 206 || w.Body.String() != "n=1" || w.Header().Get("Content-Range") != "bytes 23-25/26" {
		t.Fatalf("hit: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	w = send(t, h, o, "GET", "/d", "Range: bytes=0-1,6-10")
	if parts := readMultipart(t, w.Header(), w.Body.Bytes()); len(parts) != 2 || parts[1][1] != "world" {
		t.Fatalf("parts %q", parts)
	}
	if o.n.Load() != 1 {
		t.Errorf("origin requests %d", o.n.Load())
	}
}
