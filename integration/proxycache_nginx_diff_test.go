package integration

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// diffCacheNginx is the nginx side of the proxy_cache differential cases:
// a cache with nginx's defaults under /, and the locations the cases need.
// X-Cache-Status is added to every status code (always), as frontdesk does.
// /g/, /gr/ and /gv/ are the generative tester's locations (genLoc).
const diffCacheNginx = `
proxy_cache_path {{DIR}}/cache keys_zone=diff:1m;
server {
    listen {{LISTEN}};
    add_header X-Cache-Status $upstream_cache_status always;
    location / {
        proxy_pass http://{{UPSTREAM}};
        proxy_cache diff;
    }
    location /v/ {
        proxy_pass http://{{UPSTREAM}};
        proxy_cache diff;
        proxy_cache_valid 200 10m;
    }
    location /ig/ {
        proxy_pass http://{{UPSTREAM}};
        proxy_cache diff;
        proxy_ignore_headers X-Accel-Expires;
    }
    location /rv/ {
        proxy_pass http://{{UPSTREAM}};
        proxy_cache diff;
        proxy_cache_revalidate on;
    }
    location /lk/ {
        proxy_pass http://{{UPSTREAM}};
        proxy_cache diff;
        proxy_cache_valid 200 10m;
        proxy_cache_lock on;
        proxy_cache_lock_age 1s;
        proxy_cache_lock_timeout 10s;
    }
    location /g/ {
        proxy_pass http://{{UPSTREAM}};
        proxy_cache diff;
    }
    location /gr/ {
        proxy_pass http://{{UPSTREAM}};
        proxy_cache diff;
        proxy_cache_revalidate on;
    }
    location /gv/ {
        proxy_pass http://{{UPSTREAM}};
        proxy_cache diff;
        proxy_cache_valid any 1s;
    }
}
`

// diffCacheCaddyfile is the same on frontdesk's side.
var diffCacheCaddyfile = globalBlock("auto_https off") + `
http://:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	handle /v/* {
		proxy_cache {
			valid 200 10m
		}
		reverse_proxy {$BACKEND_POOL}
	}
	handle /ig/* {
		proxy_cache {
			ignore_headers X-Accel-Expires
		}
		reverse_proxy {$BACKEND_POOL}
	}
	handle /rv/* {
		proxy_cache
		reverse_proxy {$BACKEND_POOL}
	}
	handle /lk/* {
		proxy_cache {
			valid 200 10m
			lock on
			lock_age 1s
			lock_timeout 10s
		}
		reverse_proxy {$BACKEND_POOL}
	}
	handle /g/* {
		proxy_cache {
			revalidate off
		}
		reverse_proxy {$BACKEND_POOL}
	}
	handle /gr/* {
		proxy_cache
		reverse_proxy {$BACKEND_POOL}
	}
	handle /gv/* {
		proxy_cache {
			valid any 1s
			revalidate off
		}
		reverse_proxy {$BACKEND_POOL}
	}
	handle {
		proxy_cache
		reverse_proxy {$BACKEND_POOL}
	}
}
`

// headerOrigin answers "hello world 0123456789 n=N" (N counting that
// path's requests; padded in front with dots, or cut, to size=bytes if
// given) with the status given by status=code (200 if not) and the response
// fields named by the query's h_Name=value pairs, in their order, after
// sleep=seconds if given, with {date±N} / {unix±N} in their values
// expanded (expandTimes). A 204 has no body. To an If-None-Match naming the
// h_ETag value it answers 304 with those fields and the h304_Name=value
// ones. It records the Range fields it receives.
type headerOrigin struct {
	testBackend
	mu     sync.Mutex
	counts map[string]int
	ranges []string
}

func newHeaderOrigin(t *testing.T) *headerOrigin {
	o := &headerOrigin{counts: map[string]int{}}
	o.testBackend = startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.counts[r.URL.Path]++
		n := o.counts[r.URL.Path]
		o.ranges = append(o.ranges, r.Header.Get("Range")+r.Header.Get("If-Range"))
		o.mu.Unlock()
		// Written by hand: net/http would sort the fields, and nginx 1.22
		// reads Cache-Control and X-Accel-Expires in order.
		q, _ := url.ParseQuery(r.URL.RawQuery)
		inm := r.Header.Get("If-None-Match")
		notModified := inm != "" && inm == q.Get("h_ETag")
		var head strings.Builder
		code, _ := strconv.Atoi(q.Get("status"))
		if code == 0 {
			code = http.StatusOK
		}
		if notModified {
			code = http.StatusNotModified
		}
		head.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
		for _, kv := range strings.Split(r.URL.RawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			v, _ = url.QueryUnescape(v)
			switch {
			case strings.HasPrefix(k, "h_"):
				head.WriteString(k[2:] + ": " + expandTimes(v, time.Now()) + "\r\n")
			case strings.HasPrefix(k, "h304_") && notModified:
				head.WriteString(k[5:] + ": " + v + "\r\n")
			case k == "sleep":
				d, _ := strconv.ParseFloat(v, 64)
				time.Sleep(time.Duration(d * float64(time.Second)))
			}
		}
		body := "hello world 0123456789 n=" + strconv.Itoa(n)
		if size, _ := strconv.Atoi(q.Get("size")); size > len(body) {
			body = strings.Repeat(".", size-len(body)) + body
		} else if q.Has("size") {
			body = body[:size]
		}
		if code == http.StatusNotModified || code == http.StatusNoContent {
			body = ""
			head.WriteString("Connection: close\r\n\r\n")
		} else {
			head.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n")
		}
		if r.Method != http.MethodHead {
			head.WriteString(body)
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString(head.String())
		buf.Flush()
	}))
	return o
}

func (o *headerOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[path]
}

// startDiffCache runs nginx and frontdesk, each with its cache in front of
// a headerOrigin of its own, and returns the origins and addresses.
func startDiffCache(t *testing.T) (ngOrigin, fdOrigin *headerOrigin, nginx, fd string) {
	t.Helper()
	requirePeer(t, "nginx")
	ngOrigin, fdOrigin = newHeaderOrigin(t), newHeaderOrigin(t)
	port := freePort(t)
	nginx = "127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	block := strings.NewReplacer("{{LISTEN}}", nginx, "{{DIR}}", dir, "{{UPSTREAM}}", ngOrigin.addr()).Replace(diffCacheNginx)
	ng, err := harness.StartNginx(dir, nginx, block)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, ng.Process)
	cf := filepath.Join(t.TempDir(), "diff.Caddyfile")
	if err := os.WriteFile(cf, []byte(diffCacheCaddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	_, fd = startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+fdOrigin.addr())
	return ngOrigin, fdOrigin, nginx, fd
}

// cacheDiffStep is one request of a differential case.
type cacheDiffStep struct {
	method string
	hdr    []string
	before time.Duration // wait before sending
	want   string        // X-Cache-Status of both
	// nginxWant, when set, is nginx's X-Cache-Status where frontdesk
	// deliberately differs (README: "Compared with nginx").
	nginxWant string
	// nginxCode, when set, is nginx's status where frontdesk deliberately
	// differs; the bodies are then not compared.
	nginxCode int
}

// cacheDiffCase is a path and the requests sent for it, in order, to both.
type cacheDiffCase struct {
	name  string
	path  string
	steps []cacheDiffStep
}

func cacheGet(want string, hdr ...string) cacheDiffStep {
	return cacheDiffStep{method: "GET", hdr: hdr, want: want}
}

// cacheComparable is what is compared of an answer: status, Content-Range,
// Content-Length and body, with a multipart/byteranges body reduced to
// its parts (the boundaries differ).
func cacheComparable(t *testing.T, r response) string {
	t.Helper()
	s, err := tryCacheComparable(r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tryCacheComparable is cacheComparable returning a multipart body's error.
func tryCacheComparable(r response) (string, error) {
	s := strconv.Itoa(r.status) + " range=" + r.header.Get("Content-Range")
	mt, params, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	if mt != "multipart/byteranges" {
		if r.status != http.StatusRequestedRangeNotSatisfiable { // nginx sends its error page
			s += " len=" + r.header.Get("Content-Length") + " body=" + r.body
		}
		return s, nil
	}
	mr := multipart.NewReader(strings.NewReader(r.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("multipart body: %w", err)
		}
		b, _ := io.ReadAll(p)
		s += " part[" + p.Header.Get("Content-Type") + " " + p.Header.Get("Content-Range") + " " + string(b) + "]"
	}
	return s, nil
}

// TestProxyCacheMatchesNginxAccelAndRanges runs the same request sequences
// through real nginx and through frontdesk, each caching the same origin:
// X-Accel-Expires (lifetimes, 0, @time, invalid values, ignore_headers, the
// field never reaching clients) and Range requests on misses and hits
// (206, multipart/byteranges, 416, If-Range). Status, X-Cache-Status,
// Content-Range, Content-Length and body (multipart parts) must match,
// except where the README lists a deliberate difference.
func TestProxyCacheMatchesNginxAccelAndRanges(t *testing.T) {
	ngOrigin, fdOrigin, nginx, fd := startDiffCache(t)
	future := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	const lm = "h_Last-Modified=Tue,%2001%20Jan%202019%2000:00:00%20GMT"
	const rg = "?h_ETag=%22abc%22&" + lm + "&h_Accept-Ranges=bytes&h_Content-Type=text/plain"
	cases := []cacheDiffCase{
		{"X-Accel-Expires overrides no-store", "/xa1?h_X-Accel-Expires=10&h_Cache-Control=no-store",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("HIT")}},
		{"X-Accel-Expires 0 forbids max-age", "/xa2?h_Cache-Control=max-age=60&h_X-Accel-Expires=0",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("MISS")}},
		{"X-Accel-Expires 0 forbids valid", "/v/xa3?h_X-Accel-Expires=0",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("MISS")}},
		{"X-Accel-Expires @time", "/xa4?h_X-Accel-Expires=@" + future,
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("HIT")}},
		{"X-Accel-Expires invalid ignored", "/xa5?h_X-Accel-Expires=abc&h_Cache-Control=max-age=60",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("HIT")}},
		{"X-Accel-Expires negative ignored", "/xa6?h_X-Accel-Expires=-5",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("MISS")}},
		{"X-Accel-Expires with Set-Cookie", "/xa7?h_X-Accel-Expires=10&h_Set-Cookie=a=b",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("MISS")}},
		{"X-Accel-Expires with Vary *", "/xa8?h_X-Accel-Expires=10&h_Vary=*",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("MISS")}},
		{"X-Accel-Expires 1 beats max-age=600", "/xa9?h_X-Accel-Expires=1&h_Cache-Control=max-age=600",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("HIT"), {method: "GET", before: 2200 * time.Millisecond, want: "EXPIRED"}}},
		{"X-Accel-Expires on a 304 sets the new lifetime", "/rv/xa13?h_ETag=%22v1%22&h_Cache-Control=max-age=1&h304_X-Accel-Expires=100",
			[]cacheDiffStep{cacheGet("MISS"), {method: "GET", before: 2200 * time.Millisecond, want: "REVALIDATED"},
				{method: "GET", before: 2200 * time.Millisecond, want: "HIT"}}},
		{"ignore_headers X-Accel-Expires", "/ig/xa10?h_X-Accel-Expires=0&h_Cache-Control=max-age=60",
			[]cacheDiffStep{cacheGet("MISS"), cacheGet("HIT")}},
		// nginx 1.22 reads the fields in order: a no-store before
		// X-Accel-Expires wins there. nginx 1.23+ and frontdesk: the
		// X-Accel-Expires lifetime wins in any order.
		{"X-Accel-Expires after no-store", "/xa11?h_Cache-Control=no-store&h_X-Accel-Expires=10",
			[]cacheDiffStep{cacheGet("MISS"), {method: "GET", want: "HIT", nginxWant: "MISS", nginxCode: 200}}},
		// nginx stores an entry that is already stale; frontdesk does not
		// store what could only be refetched.
		{"X-Accel-Expires @past", "/xa12?h_X-Accel-Expires=@1000&h_Cache-Control=max-age=60",
			[]cacheDiffStep{cacheGet("MISS"), {method: "GET", want: "MISS", nginxWant: "EXPIRED"}}},

		{"Range on a miss, then from the cache", "/v/r1" + rg, []cacheDiffStep{
			cacheGet("MISS", "Range: bytes=0-4"),
			cacheGet("HIT", "Range: bytes=6-10"),
			cacheGet("HIT", "Range: bytes=-3"),
			cacheGet("HIT", "Range: bytes=20-"),
			cacheGet("HIT", "Range: bytes=20-100"),
			cacheGet("HIT", "Range: bytes=0-1,4-5"),
			cacheGet("HIT", "Range: bytes=4-5,0-1"),
			cacheGet("HIT", "Range: bytes=0-5,3-8"),
			cacheGet("HIT", "Range: bytes=0-1,100-200"),
			cacheGet("HIT", "Range: bytes=100-"),
			cacheGet("HIT", "Range: bytes=abc"),
			cacheGet("HIT", "Range: bytes=5-1"),
			cacheGet("HIT", "Range: bytes=-0"),
			cacheGet("HIT", "Range: items=0-1"),
			cacheGet("HIT", "Range: bytes=0-1", `If-Range: "abc"`),
			cacheGet("HIT", "Range: bytes=0-1", `If-Range: "zzz"`),
			cacheGet("HIT", "Range: bytes=0-1", "If-Range: Tue, 01 Jan 2019 00:00:00 GMT"),
			cacheGet("HIT", "Range: bytes=0-1", "If-Range: Wed, 01 Jan 2020 00:00:00 GMT"),
			{method: "HEAD", hdr: []string{"Range: bytes=0-1"}, want: "HIT"},
			cacheGet("HIT"),
		}},
		{"several ranges on a miss: whole", "/v/r2" + rg, []cacheDiffStep{cacheGet("MISS", "Range: bytes=0-1,4-5"), cacheGet("HIT", "Range: bytes=0-1,4-5")}},
		// nginx does not store the response it answered with 416 on a
		// miss; frontdesk does.
		{"unsatisfiable on a miss", "/v/r3" + rg, []cacheDiffStep{cacheGet("MISS", "Range: bytes=100-"),
			{method: "GET", want: "HIT", nginxWant: "MISS", nginxCode: 200}}},
		{"If-Range differs on a miss", "/v/r4" + rg, []cacheDiffStep{cacheGet("MISS", "Range: bytes=0-1", `If-Range: "zzz"`), cacheGet("HIT", "Range: bytes=0-1")}},
		// nginx compares If-Range's entity tag as a string, W/ included;
		// RFC 9110 §13.1.5 says a weak tag never matches.
		{"If-Range weak entity tag", "/v/r5?h_ETag=W/%22abc%22&h_Accept-Ranges=bytes", []cacheDiffStep{
			cacheGet("MISS"),
			{method: "GET", hdr: []string{"Range: bytes=0-1", `If-Range: W/"abc"`}, want: "HIT", nginxCode: 206},
		}},
		// nginx answers ranges only when the origin sent Accept-Ranges
		// (or with proxy_force_ranges); frontdesk answers them from any
		// complete stored 200.
		{"origin without Accept-Ranges", "/v/r6?h_Content-Type=text/plain", []cacheDiffStep{
			{method: "GET", hdr: []string{"Range: bytes=0-4"}, want: "MISS", nginxCode: 200},
			{method: "GET", hdr: []string{"Range: bytes=0-4"}, want: "HIT", nginxCode: 200},
		}},
	}
	passed, differs := 0, 0
	for _, c := range cases {
		ok, documented := true, false
		for i, s := range c.steps {
			documented = documented || s.nginxWant != "" || s.nginxCode != 0
			if s.before > 0 {
				time.Sleep(s.before)
			}
			hdr := append([]string{"Host: api.example.com"}, s.hdr...)
			ng := do(t, s.method, "http://"+nginx+c.path, "", hdr...)
			got := do(t, s.method, "http://"+fd+c.path, "", hdr...)
			ngWant := s.want
			if s.nginxWant != "" {
				ngWant = s.nginxWant
			}
			ngStatus, fdStatus := ng.header.Get("X-Cache-Status"), got.header.Get("X-Cache-Status")
			if ngStatus != ngWant || fdStatus != s.want {
				t.Errorf("%s, request %d %v: X-Cache-Status nginx %q, frontdesk %q, want %q and %q", c.name, i+1, s.hdr, ngStatus, fdStatus, ngWant, s.want)
				ok = false
			}
			if v := got.header.Get("X-Accel-Expires") + ng.header.Get("X-Accel-Expires"); v != "" {
				t.Errorf("%s, request %d: X-Accel-Expires %q reached the client", c.name, i+1, v)
				ok = false
			}
			ngC, fdC := cacheComparable(t, ng), cacheComparable(t, got)
			if s.nginxCode != 0 {
				if ng.status != s.nginxCode {
					t.Errorf("%s, request %d %v: nginx status %d, want %d", c.name, i+1, s.hdr, ng.status, s.nginxCode)
					ok = false
				}
			} else if ngC != fdC {
				t.Errorf("%s, request %d %v:\n nginx     %s\n frontdesk %s", c.name, i+1, s.hdr, ngC, fdC)
				ok = false
			}
			t.Logf("%-40s %-45v nginx %-8s frontdesk %-8s %s", c.name, s.hdr, ngStatus, fdStatus, fdC)
		}
		if ok {
			passed++
			if documented {
				differs++
			}
		}
	}
	for _, o := range []*headerOrigin{ngOrigin, fdOrigin} {
		o.mu.Lock()
		for _, r := range o.ranges {
			if r != "" {
				t.Errorf("an origin received Range / If-Range %q", r)
			}
		}
		o.mu.Unlock()
	}
	t.Logf("%d of %d differential cases pass: %d identical to nginx, %d with a documented difference",
		passed, len(cases), passed-differs, differs)
}

// TestProxyCacheLockAgeMatchesNginx: lock on, lock_age 1s, an origin
// taking 2.5s, and four requests for one key 50ms apart. In nginx and in
// frontdesk the first request goes to the origin, the second takes the lock
// over after 1s and the third after 2s; the fourth is answered from the
// cache when the first finishes: three origin requests, three MISS and one
// HIT.
func TestProxyCacheLockAgeMatchesNginx(t *testing.T) {
	ngOrigin, fdOrigin, nginx, fd := startDiffCache(t)
	for _, target := range []struct {
		name, addr string
		o          *headerOrigin
	}{{"nginx", nginx, ngOrigin}, {"frontdesk", fd, fdOrigin}} {
		t.Run(target.name, func(t *testing.T) {
			var wg sync.WaitGroup
			var hits, misses atomic.Int32
			for i := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := do(t, "GET", "http://"+target.addr+"/lk/slow?sleep=2.5", "", "Host: api.example.com")
					switch r.header.Get("X-Cache-Status") {
					case "HIT":
						hits.Add(1)
					case "MISS":
						misses.Add(1)
					}
					if r.status != 200 {
						t.Errorf("request %d: status %d", i, r.status)
					}
				}()
				time.Sleep(50 * time.Millisecond)
			}
			wg.Wait()
			if n := target.o.count("/lk/slow"); n != 3 || misses.Load() != 3 || hits.Load() != 1 {
				t.Errorf("origin requests %d, MISS %d, HIT %d; want 3, 3, 1", n, misses.Load(), hits.Load())
			}
		})
	}
}
