package proxycache

import (
	"os"
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// startRedis runs a real redis-server on a free port for the test.
func startRedis(t *testing.T) *harness.Redis {
	t.Helper()
	if msg := harness.MissingPeer("redis-server"); msg != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	r, err := harness.StartRedis(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

func TestRedisStorage(t *testing.T) {
	r := startRedis(t)
	cfg := `{"storage":{"module":"redis","url":"` + r.URL() + `"}}`
	h1 := newHandler(t, cfg)
	h2 := newHandler(t, cfg) // another instance sharing the Redis
	o := respond(200, "shared", "Cache-Control", "max-age=60", "Vary", "Accept")
	expectStatus(t, send(t, h1, o, "GET", "/r", "Accept: a"), labelMiss)
	w := send(t, h2, o, "GET", "/r", "Accept: a")
	expectStatus(t, w, labelHit)
	if w.Body.String() != "shared" {
		t.Errorf("body %q", w.Body.String())
	}
	expectStatus(t, send(t, h2, o, "GET", "/r", "Accept: b"), labelMiss)
	expectStatus(t, send(t, h1, o, "GET", "/r", "Accept: b"), labelHit)
	expectStatus(t, send(t, h1, o, "GET", "/r", "Accept: a"), labelHit)

	// Invalidation reaches every instance.
	send(t, h1, respond(204, ""), "DELETE", "/r")
	expectStatus(t, send(t, h2, o, "GET", "/r", "Accept: a"), labelMiss)

	// Redis gone: requests pass through, never an error.
	r.Kill()
	for range 3 {
		w := send(t, h1, o, "GET", "/r", "Accept: a")
		if w.Code != 200 || w.Body.String() != "shared" || xcs(w) != labelMiss ||
			!strings.Contains(w.Header().Get("Cache-Status"), "detail=storage-unavailable") {
			t.Errorf("with Redis down: %d %q %q %q", w.Code, w.Body.String(), xcs(w), w.Header().Get("Cache-Status"))
		}
	}
}

func TestRedisURLRejected(t *testing.T) {
	for _, u := range []string{"", "http://x", "redis://host:notaport"} {
		if _, err := parseRedisURL(u); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	_, err := adapt(t, ":8080 {\n\tproxy_cache {\n\t\tstorage redis memcache://x\n\t}\n}")
	if err == nil || !strings.Contains(err.Error(), `is not a redis:// or rediss:// URL, at Caddyfile:3`) {
		t.Errorf("bad URL: %v", err)
	}
}

func TestRedisZoneHidesPassword(t *testing.T) {
	s := &RedisStorage{URL: "redis://user:secret@127.0.0.1:6379/0", Prefix: "p:"}
	if z := s.zoneID(); strings.Contains(z, "secret") || z != "redis/redis://127.0.0.1:6379/0/p:" {
		t.Errorf("zone %q", z)
	}
}
