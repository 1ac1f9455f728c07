package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// storageCaddyfile is a minimal cache in front of $BACKEND_POOL with the
// given storage block. A restarted or second instance listens on another
// free port, so the key leaves the port out, as the README's fleet
// examples do (the default key holds the listener's port).
func storageCaddyfile(t *testing.T, storage string) string {
	t.Helper()
	body := globalBlock("auto_https off") + `
http://api.example.com:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	proxy_cache {
		storage ` + storage + `
		valid 200 10m
		key {http.request.method}{http.request.scheme}{http.request.host}{http.request.orig_uri}
	}
	reverse_proxy {$BACKEND_POOL}
}
`
	path := filepath.Join(t.TempDir(), "cache.Caddyfile")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func cacheStatus(t *testing.T, addr, path string) response {
	t.Helper()
	return do(t, "GET", "http://"+addr+path, "", "Host: api.example.com")
}

// TestProxyCacheAdminPurgeAndMetrics: purge by URL, prefix and surrogate key
// and flush through the admin API; stats and Prometheus metrics show the
// counts.
func TestProxyCacheAdminPurgeAndMetrics(t *testing.T) {
	origin := newCountingOrigin(t, 0)
	fd, addr := startCaddyfile(t, storageCaddyfile(t, "memory"), t.TempDir(), "BACKEND_POOL="+origin.addr())
	admin := adminAPI(fd.Admin)
	paths := []string{"/api/a", "/api/b", "/img/c"}
	for _, p := range paths {
		cacheStatus(t, addr, p)
	}
	hits := func() (n int) {
		for _, p := range paths {
			if cacheStatus(t, addr, p).header.Get("X-Cache-Status") == "HIT" {
				n++
			}
		}
		return n
	}
	if hits() != 3 {
		t.Fatal("not stored")
	}
	if code, body := admin.do(t, "POST", "/proxy_cache/purge", `{"url":"http://api.example.com/img/c"}`); code != 200 || !strings.Contains(body, `"purged":1`) {
		t.Fatalf("purge url: %d %s", code, body)
	}
	if hits() != 2 {
		t.Error("purge by URL")
	}
	if code, body := admin.do(t, "POST", "/proxy_cache/purge", `{"prefix":"http://api.example.com/api/"}`); code != 200 || !strings.Contains(body, `"purged":2`) {
		t.Fatalf("purge prefix: %d %s", code, body)
	}
	if hits() != 1 { // /img/c was stored again by the previous round
		t.Error("purge by prefix")
	}
	if code, body := admin.do(t, "POST", "/proxy_cache/flush", ``); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	if hits() != 0 {
		t.Error("flush")
	}
	if code, body := admin.do(t, "POST", "/proxy_cache/purge", `{"url":"x","tag":"y"}`); code != 400 {
		t.Errorf("bad purge: %d %s", code, body)
	}

	var stats struct {
		Zones map[string]map[string]float64 `json:"zones"`
	}
	admin.getJSON(t, "/proxy_cache/stats", &stats)
	z := stats.Zones["memory/default"]
	if z == nil || z["hits"] < 3 || z["misses"] < 3 || z["objects"] != 3 {
		t.Errorf("stats: %v", stats)
	}
	metrics := admin.get(t, "/metrics")
	for _, want := range []string{`frontdesk_proxy_cache_requests_total{status="HIT",zone="memory/default"}`, `frontdesk_proxy_cache_objects{zone="memory/default"} 3`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestProxyCacheDiskSurvivesRestart: a disk cache answers HIT after the
// process is stopped and started again on the same directory.
func TestProxyCacheDiskSurvivesRestart(t *testing.T) {
	origin := newCountingOrigin(t, 0)
	dir := t.TempDir()
	cf := storageCaddyfile(t, "disk "+filepath.Join(dir, "cache")+" {\n\t\t\tmax_size 10m\n\t\t}")
	fd, addr := startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())
	first := cacheStatus(t, addr, "/api/doc")
	if first.header.Get("X-Cache-Status") != "MISS" {
		t.Fatal(first.header)
	}
	fd.Stop()
	_, addr = startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())
	got := cacheStatus(t, addr, "/api/doc")
	if got.header.Get("X-Cache-Status") != "HIT" || got.body != first.body || origin.n.Load() != 1 {
		t.Errorf("after restart: %q %q, origin %d", got.header.Get("X-Cache-Status"), got.body, origin.n.Load())
	}
}

// TestProxyCacheRedisShared: two frontdesk instances share one real Redis
// (the second answers HIT for what the first stored); when Redis is killed,
// both go on answering from the origin (MISS), never with a 5xx.
func TestProxyCacheRedisShared(t *testing.T) {
	requirePeer(t, "redis-server")
	redis, err := harness.StartRedis(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, redis.Process)
	origin := newCountingOrigin(t, 0)
	cf := storageCaddyfile(t, "redis "+redis.URL())
	_, a := startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())
	_, b := startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())

	if s := cacheStatus(t, a, "/api/shared").header.Get("X-Cache-Status"); s != "MISS" {
		t.Fatalf("first instance: %s", s)
	}
	got := cacheStatus(t, b, "/api/shared")
	if got.header.Get("X-Cache-Status") != "HIT" || origin.n.Load() != 1 {
		t.Fatalf("second instance: %q, origin %d", got.header.Get("X-Cache-Status"), origin.n.Load())
	}

	redis.Kill()
	deadline := time.Now().Add(3 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		for _, addr := range []string{a, b} {
			got := cacheStatus(t, addr, "/api/shared")
			if got.status != 200 || !strings.HasPrefix(got.body, "answer ") || got.header.Get("X-Cache-Status") != "MISS" {
				t.Fatalf("with Redis down: %d %q %q", got.status, got.header.Get("X-Cache-Status"), got.body)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestProxyCacheMemoryBound: 3× max_size of distinct objects through the
// binary; the stats show the zone within its bound.
func TestProxyCacheMemoryBound(t *testing.T) {
	origin := newCountingOrigin(t, 0)
	fd, addr := startCaddyfile(t, storageCaddyfile(t, "memory {\n\t\t\tmax_size 64k\n\t\t}"), t.TempDir(), "BACKEND_POOL="+origin.addr())
	for i := range 600 { // ~330 bytes each with headers: ~3× 64 KiB
		cacheStatus(t, addr, "/api/obj/"+strings.Repeat("x", i%7)+sprintf("%d", i))
	}
	var stats struct {
		Zones map[string]map[string]float64 `json:"zones"`
	}
	adminAPI(fd.Admin).getJSON(t, "/proxy_cache/stats", &stats)
	z := stats.Zones["memory/default"]
	if z == nil || z["bytes"] > 64<<10 || z["bytes"] < 32<<10 || z["stored"] != 600 {
		t.Errorf("zone after 600 objects: %v", z)
	}
}

// TestProxyCacheInsideHeaderPolicy: header_policy wraps the cache, so a HIT
// gets its own request ID and the upstream's Server header stays hidden.
func TestProxyCacheInsideHeaderPolicy(t *testing.T) {
	origin := newCountingOrigin(t, 0)
	body := globalBlock("auto_https off") + `
http://api.example.com:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	reverse_proxy {$BACKEND_POOL}
	proxy_cache {
		valid 200 10m
	}
	header_policy nginx {
		request_id
	}
}
`
	cf := filepath.Join(t.TempDir(), "policy.Caddyfile")
	if err := os.WriteFile(cf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, addr := startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())
	first := cacheStatus(t, addr, "/api/x")
	second := cacheStatus(t, addr, "/api/x")
	if first.header.Get("X-Cache-Status") != "MISS" || second.header.Get("X-Cache-Status") != "HIT" {
		t.Fatalf("statuses %q %q", first.header.Get("X-Cache-Status"), second.header.Get("X-Cache-Status"))
	}
	id1, id2 := first.header.Get("X-Request-Id"), second.header.Get("X-Request-Id")
	if id1 == "" || id2 == "" || id1 == id2 {
		t.Errorf("request IDs %q and %q: a HIT must carry its own", id1, id2)
	}
	if v := second.header.Values("Server"); len(v) != 0 {
		t.Errorf("Server on a HIT: %v", v)
	}
}
