package integration

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// seedProxyCache is seed 004's "Proxy Caching" block, verbatim except for
// the cache directory, the 200/301 valid time (shortened so expiry can be
// observed), the listen address and the upstream pool, which the seed elides.
const seedProxyCache = `
proxy_cache_path  {{DIR}}/cache
                  levels=1:2
                  keys_zone=api_cache:10m    # 10MB of cache metadata (~80k keys)
                  max_size=1g                # max disk usage for cached content
                  inactive=60m              # remove content not accessed in 60 min
                  use_temp_path=off;         # write directly to cache dir (faster)

upstream backend_pool { server {{UPSTREAM}}; }

# In your server block:
server {
    listen {{LISTEN}};
    location /api/ {
        proxy_pass         http://backend_pool;
        proxy_cache        api_cache;

        # Cache successful GET/HEAD responses for 10 minutes
        proxy_cache_valid  200 301   {{TTL}};
        proxy_cache_valid  302       1m;
        proxy_cache_valid  404       1m;

        # Cache key: method + scheme + host + URI
        proxy_cache_key    "$request_method$scheme$host$request_uri";

        # Cache even if upstream sends no-cache header
        # (respects your explicit TTL above instead)
        proxy_ignore_headers  Cache-Control Expires;

        # Return stale cache if upstream is down (grace period)
        proxy_cache_use_stale  error timeout updating http_500 http_502 http_503;
        proxy_cache_background_update  on;   # refresh cache in background
        proxy_cache_lock               on;   # only one request fetches for a given key

        # Add a header so you can see cache hit/miss in responses
        add_header  X-Cache-Status  $upstream_cache_status;
    }
}
`

// startSeedCacheNginx runs real nginx with the seed's proxy_cache block.
func startSeedCacheNginx(t *testing.T, upstream, ttl string) string {
	t.Helper()
	requirePeer(t, "nginx")
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	block := strings.NewReplacer("{{LISTEN}}", addr, "{{DIR}}", dir, "{{UPSTREAM}}", upstream, "{{TTL}}", ttl).Replace(seedProxyCache)
	ng, err := harness.StartNginx(dir, addr, block)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, ng.Process)
	return addr
}

// startCacheCaddyfile runs caddyfile/cache.Caddyfile in front of upstream
// with the 200/301 valid time ttl.
func startCacheCaddyfile(t *testing.T, upstream, ttl string) (*harness.Frontdesk, string) {
	t.Helper()
	return startCaddyfile(t, repoFile(t, "caddyfile/cache.Caddyfile"), t.TempDir(),
		"BACKEND_POOL="+upstream, "CACHE_VALID_OK="+ttl)
}

// TestProxyCacheSeedMatchesNginx is the differential test: the same request
// sequence through real nginx with seed 004's proxy_cache block and through
// frontdesk with caddyfile/cache.Caddyfile, both in front of the lab's Flask
// API, gives the same statuses, bodies and X-Cache-Status values — including
// while the API is down (use_stale error) and after it comes back.
func TestProxyCacheSeedMatchesNginx(t *testing.T) {
	requirePeer(t, "python3-flask", "nginx")
	logDir := t.TempDir()
	flaskPort := freePort(t)
	flask, err := harness.StartFlaskOn(logDir, flaskPort)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, flask.Process)
	const ttl = "2s"
	nginx := startSeedCacheNginx(t, flask.Addr, ttl)
	_, fd := startCacheCaddyfile(t, flask.Addr, ttl)

	// nginx counts its valid time in whole seconds: wait past both.
	expire := func() { time.Sleep(3200 * time.Millisecond) }
	settle := func() { time.Sleep(500 * time.Millisecond) }
	hello := "/api/hello?name=Cache"
	steps := []struct {
		name   string
		before func()
		path   string
		want   string // expected X-Cache-Status ("" = none compared)
		code   int
		// nginxWant, when set, is nginx's X-Cache-Status where frontdesk
		// deliberately differs.
		nginxWant string
	}{
		{"cold", nil, hello, "MISS", 200, ""},
		{"warm", nil, hello, "HIT", 200, ""},
		{"again", nil, hello, "HIT", 200, ""},
		// nginx keys HEAD apart ($request_method is HEAD), so its HEAD misses;
		// RFC 9111 §4 lets a stored GET answer HEAD, which frontdesk does.
		{"head from the stored GET", nil, hello, "HIT", 200, "MISS"},
		{"other key", nil, "/api/hello?name=Other", "MISS", 200, ""},
		{"expired: stale, refreshed in the background", expire, hello, "STALE", 200, ""},
		{"refreshed", settle, hello, "HIT", 200, ""},
		{"origin down, still fresh", func() { flask.Stop() }, hello, "HIT", 200, ""},
		{"origin down, expired: stale", expire, hello, "STALE", 200, ""},
		{"origin down, stale again", settle, hello, "STALE", 200, ""},
		{"origin down, never cached", nil, "/api/hello?name=Cold", "", 502, ""},
		{"origin back: stale, refreshed", func() {
			f, err := harness.StartFlaskOn(logDir, flaskPort)
			if err != nil {
				t.Fatal(err)
			}
			stopOnCleanup(t, f.Process)
		}, hello, "STALE", 200, ""},
		{"refreshed again", settle, hello, "HIT", 200, ""},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		method := "GET"
		if strings.HasPrefix(s.name, "head") {
			method = "HEAD"
		}
		ng := do(t, method, "http://"+nginx+s.path, "", "Host: api.example.com")
		got := do(t, method, "http://"+fd+s.path, "", "Host: api.example.com")
		// A background refresh finishes on its own time: on a loaded machine,
		// ask again (both) until it has.
		for i := 0; strings.HasPrefix(s.name, "refreshed") && i < 20 &&
			(ng.header.Get("X-Cache-Status") != s.want || got.header.Get("X-Cache-Status") != s.want); i++ {
			time.Sleep(100 * time.Millisecond)
			if ng.header.Get("X-Cache-Status") != s.want {
				ng = do(t, method, "http://"+nginx+s.path, "", "Host: api.example.com")
			}
			if got.header.Get("X-Cache-Status") != s.want {
				got = do(t, method, "http://"+fd+s.path, "", "Host: api.example.com")
			}
		}
		ngStatus, fdStatus := ng.header.Get("X-Cache-Status"), got.header.Get("X-Cache-Status")
		if ng.status != s.code || got.status != s.code {
			t.Errorf("%s: status nginx %d, frontdesk %d, want %d", s.name, ng.status, got.status, s.code)
		}
		if ng.body != got.body && s.code == 200 {
			t.Errorf("%s: body nginx %q, frontdesk %q", s.name, ng.body, got.body)
		}
		ngWant := s.want
		if s.nginxWant != "" {
			ngWant = s.nginxWant
		}
		if s.want != "" && (ngStatus != ngWant || fdStatus != s.want) {
			t.Errorf("%s: X-Cache-Status nginx %q, frontdesk %q, want %q and %q", s.name, ngStatus, fdStatus, ngWant, s.want)
		}
		t.Logf("%-45s nginx %d %-8s frontdesk %d %-8s Cache-Status %q", s.name, ng.status, ngStatus, got.status, fdStatus, got.header.Get("Cache-Status"))
	}
}

// countingOrigin is a Go test origin that counts requests and answers after
// a delay.
type countingOrigin struct {
	testBackend
	n     atomic.Int64
	delay time.Duration
}

func newCountingOrigin(t *testing.T, delay time.Duration) *countingOrigin {
	o := &countingOrigin{delay: delay}
	o.testBackend = startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := o.n.Add(1)
		time.Sleep(o.delay)
		w.Header().Set("Server", "Werkzeug/2.2.2 Python/3.11.2")
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("answer " + strconv.FormatInt(n, 10) + " for " + r.RequestURI))
	}))
	return o
}

// TestProxyCacheLockCollapses: 50 concurrent cold requests for one key make
// exactly one origin request (lock on), and every client gets its answer —
// through frontdesk and, as the reference, through nginx.
func TestProxyCacheLockCollapses(t *testing.T) {
	for _, target := range []string{"frontdesk", "nginx"} {
		t.Run(target, func(t *testing.T) {
			origin := newCountingOrigin(t, 300*time.Millisecond)
			var addr string
			if target == "nginx" {
				addr = startSeedCacheNginx(t, origin.addr(), "10m")
			} else {
				_, addr = startCacheCaddyfile(t, origin.addr(), "10m")
			}
			var wg sync.WaitGroup
			results := make([]response, 50)
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = do(t, "GET", "http://"+addr+"/api/items/1", "", "Host: api.example.com")
				}()
			}
			wg.Wait()
			if n := origin.n.Load(); n != 1 {
				t.Errorf("origin requests: %d, want 1", n)
			}
			statuses := map[string]int{}
			for _, r := range results {
				if r.status != 200 || r.body != "answer 1 for /api/items/1" {
					t.Errorf("answer %d %q", r.status, r.body)
				}
				statuses[r.header.Get("X-Cache-Status")]++
			}
			if statuses["MISS"] != 1 || statuses["HIT"] != 49 {
				t.Errorf("X-Cache-Status counts %v, want 1 MISS and 49 HIT", statuses)
			}
		})
	}
}

// TestProxyCacheStaleWhileOriginDown: a Go origin that disappears; expired
// entries are served stale (use_stale error), the miss path answers 502.
func TestProxyCacheStaleWhileOriginDown(t *testing.T) {
	origin := newCountingOrigin(t, 0)
	_, addr := startCacheCaddyfile(t, origin.addr(), "1s")
	url := "http://" + addr + "/api/report"
	first := do(t, "GET", url, "", "Host: api.example.com")
	if first.status != 200 || first.header.Get("X-Cache-Status") != "MISS" {
		t.Fatalf("first: %d %q", first.status, first.header.Get("X-Cache-Status"))
	}
	origin.Close()
	time.Sleep(1500 * time.Millisecond)
	for i := range 3 {
		got := do(t, "GET", url, "", "Host: api.example.com")
		if got.status != 200 || got.body != first.body || got.header.Get("X-Cache-Status") != "STALE" {
			t.Errorf("request %d with the origin down: %d %q %q", i, got.status, got.header.Get("X-Cache-Status"), got.body)
		}
		if cs := got.header.Get("Cache-Status"); !strings.HasPrefix(cs, "Frontdesk; hit") {
			t.Errorf("Cache-Status %q", cs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := do(t, "GET", "http://"+addr+"/api/never", "", "Host: api.example.com"); got.status != 502 {
		t.Errorf("uncached with the origin down: %d, want 502", got.status)
	}
}

// TestProxyCacheReloadKeepsContents: a config reload through the admin API
// (POST /load with a changed Caddyfile) keeps the stored entries.
func TestProxyCacheReloadKeepsContents(t *testing.T) {
	origin := newCountingOrigin(t, 0)
	fd, addr := startCacheCaddyfile(t, origin.addr(), "10m")
	url := "http://" + addr + "/api/items/7"
	do(t, "GET", url, "", "Host: api.example.com")
	if got := do(t, "GET", url, "", "Host: api.example.com"); got.header.Get("X-Cache-Status") != "HIT" {
		t.Fatalf("before reload: %q", got.header.Get("X-Cache-Status"))
	}

	cf, err := os.ReadFile(repoFile(t, "caddyfile/cache.Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(cf), "\thandle /api/* {\n", "\theader X-Config reloaded\n\thandle /api/* {\n", 1)
	if changed == string(cf) {
		t.Fatal("cache.Caddyfile has no `handle /api/*` line to extend")
	}
	adminAPI(fd.Admin).reload(t, changed)
	// A connection accepted by the old server while Caddy swaps servers can
	// be closed without a response (EOF); that is Caddy's reload, not the
	// cache, so such a GET is sent once more.
	var got response
	for try := 0; ; try++ {
		req, _ := http.NewRequest("GET", url, nil)
		req.Host = "api.example.com"
		resp, err := client.Do(req)
		if err != nil && try == 0 {
			t.Logf("GET after reload: %v; once more", err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = response{status: resp.StatusCode, header: resp.Header, body: readAll(t, resp)}
		break
	}
	if got.header.Get("X-Config") != "reloaded" {
		t.Fatalf("the new config is not in use: %v", got.header)
	}
	if got.header.Get("X-Cache-Status") != "HIT" || origin.n.Load() != 1 {
		t.Errorf("after reload: %q, origin requests %d (want HIT, 1)", got.header.Get("X-Cache-Status"), origin.n.Load())
	}
}

// TestProxyCacheNotFoundCached: the seed caches 404 for 1m.
func TestProxyCacheNotFoundCached(t *testing.T) {
	origin := startBackend(t, http.NotFoundHandler())
	_, addr := startCacheCaddyfile(t, origin.addr(), "10m")
	for i, want := range []string{"MISS", "HIT"} {
		got := do(t, "GET", "http://"+addr+"/api/missing", "", "Host: api.example.com")
		if got.status != 404 || got.header.Get("X-Cache-Status") != want {
			t.Errorf("request %d: %d %q, want 404 %s", i, got.status, got.header.Get("X-Cache-Status"), want)
		}
	}
}

// TestValidateRejectsBadProxyCache: a bad proxy_cache fails adapt and
// validate with the file, the line and what is wrong.
func TestValidateRejectsBadProxyCache(t *testing.T) {
	cases := []struct {
		name, block string
		line        int
		want        string
	}{
		{"bad duration", "\tproxy_cache {\n\t\tvalid 200 10 minutes\n\t}\n", 3, `valid: "minutes" is not a duration`},
		{"bad status", "\tproxy_cache {\n\t\tvalid 2xx 10m\n\t}\n", 3, `valid: "2xx" is not a status code from 200 to 599 or "any"`},
		{"unknown use_stale", "\tproxy_cache {\n\t\tuse_stale error http_418\n\t}\n", 3, `use_stale: unknown condition "http_418"`},
		{"unknown option", "\tproxy_cache {\n\t\tuse_stale error\n\t\tcache_lock on\n\t}\n", 4, `unknown option "cache_lock"`},
		{"unknown storage", "\tproxy_cache {\n\t\tstorage tape\n\t}\n", 3, `storage: unknown storage "tape" (available: memory, disk, redis)`},
		{"bad size", "\tproxy_cache {\n\t\tstorage memory {\n\t\t\tmax_size 1x\n\t\t}\n\t}\n", 4, `max_size: "1x" is not a size`},
		{"unwritable disk path", "\tproxy_cache {\n\t\tstorage disk /etc/passwd/cache\n\t}\n", 3, `storage disk: "/etc/passwd/cache": /etc/passwd is not a directory`},
		{"bad redis URL", "\tproxy_cache {\n\t\tstorage redis http://127.0.0.1:6379\n\t}\n", 3, `"http://127.0.0.1:6379" is not a redis:// or rediss:// URL`},
		{"bad redis port", "\tproxy_cache {\n\t\tstorage redis redis://127.0.0.1:port\n\t}\n", 3, `bad URL "redis://127.0.0.1:port"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertSiteRejected(t, "proxy_cache", c.block, c.line, c.want) })
	}
}
