package proxycache

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

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

// TestRedisOutageLogsOneEpisode: killing Redis under requests logs one
// warning, and its return one info, even across a reload in the middle of
// the outage (a new storage on the same zone); another Redis zone that
// stays up logs nothing. Every request meanwhile gets the origin's answer,
// go-redis's own messages reach the zone's logger (at debug level, inside
// the episode) and hits resume.
func TestRedisOutageLogsOneEpisode(t *testing.T) {
	r, other := startRedis(t), startRedis(t)
	cfg := `{"storage":{"module":"redis","url":"` + r.URL() + `","prefix":` + jsonString(t.Name()+":") + `}}`
	h := newHandler(t, cfg)
	hOther := newHandler(t, `{"storage":{"module":"redis","url":"`+other.URL()+`"}}`)
	f, logs := observedFaults(t)
	h.storage.(*RedisStorage).faults.logger = f.logger
	hOther.storage.(*RedisStorage).faults.logger = f.logger
	o := respond(200, "origin", "Cache-Control", "max-age=600")
	for _, h := range []*Handler{h, hOther} {
		send(t, h, o, "GET", "/o")
		expectStatus(t, send(t, h, o, "GET", "/o"), labelHit)
	}

	r.Kill()
	reloaded := newHandler(t, cfg) // a config loaded during the outage
	reloaded.storage.(*RedisStorage).faults.logger = f.logger
	for i := range 40 {
		for _, h := range []*Handler{h, reloaded} {
			w := send(t, h, o, "GET", fmt.Sprint("/o", i%4))
			if w.Code != 200 || w.Body.String() != "origin" || xcs(w) != labelMiss {
				t.Fatalf("with Redis down: %d %q %q", w.Code, xcs(w), w.Body.String())
			}
		}
		expectStatus(t, send(t, hOther, o, "GET", "/o"), labelHit)
	}
	// An admin purge or flush Redis cannot answer says so: 502, naming the zone.
	zone := h.storage.(*RedisStorage).zoneID()
	for _, c := range []struct{ route, body string }{
		{"/proxy_cache/flush", `{"zone":` + jsonString(zone) + `}`},
		{"/proxy_cache/purge", `{"zone":` + jsonString(zone) + `,"url":"http://example.com/o"}`},
	} {
		code, v := adminCall(t, c.route, "POST", c.body)
		zf, _ := v["zones"].(map[string]any)[zone].(map[string]any)
		if code != 502 || zf == nil || !strings.Contains(v["error"].(string), zone) || !strings.Contains(zf["error"].(string), "redis: ") {
			t.Errorf("%s with Redis down: %d %v", c.route, code, v)
		}
	}
	r2, err := harness.StartRedisOn(t.TempDir(), r.Port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r2.Stop)
	deadline := time.Now().Add(20 * time.Second)
	for xcs(send(t, h, o, "GET", "/o")) != labelHit {
		if time.Now().After(deadline) {
			t.Fatal("no HIT within 20 s of Redis's return")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []string
	for _, e := range logs.FilterLevelExact(zapcore.WarnLevel).All() {
		got = append(got, "warn: "+e.Message+" "+e.ContextMap()["zone"].(string))
	}
	for _, e := range logs.FilterLevelExact(zapcore.InfoLevel).All() {
		got = append(got, "info: "+e.Message+" "+e.ContextMap()["zone"].(string))
	}
	want := []string{"warn: " + faultMessages[faultUnreachable][0] + " " + zone, "info: " + faultMessages[faultUnreachable][1] + " " + zone}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log:\n%s\nwant one warning and one info", strings.Join(got, "\n"))
	}
	if logs.FilterMessageSnippet("go-redis: redis: connection pool: failed to dial").Len() == 0 {
		t.Error("go-redis's own messages did not reach the zone's logger")
	}
	if n := h.storage.(*RedisStorage).faults.z.errors[opGet].Load(); n < 80 {
		t.Errorf("%d failed gets counted, want at least 80", n)
	}
}

// TestRedisStorageTLS: a redis-server speaking TLS only, requiring a
// client certificate. With the test CA and the client certificate the
// storage shares entries; without the CA (the system's roots do not know
// it) or without the client certificate it cannot connect, and requests
// pass through uncached, never an error.
func TestRedisStorageTLS(t *testing.T) {
	if msg := harness.MissingPeer("redis-server"); msg != "" {
		t.Skip(msg)
	}
	dir := t.TempDir()
	files, err := harness.WriteTLSFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := harness.StartRedisSecured(dir, harness.RedisSecurity{Password: "tls-secret", TLS: files, RequireClientCert: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	storage := func(tls string) string {
		return `{"storage":{"module":"redis","url":"` + r.URL() + `","password":"tls-secret","prefix":` + jsonString(t.Name()+":") + `,"tls":` + tls + `}}`
	}
	good := storage(`{"ca":` + jsonString(files.CA) + `,"client_cert":` + jsonString(files.Cert) + `,"client_key":` + jsonString(files.Key) + `}`)
	o := respond(200, "over tls", "Cache-Control", "max-age=60")
	expectStatus(t, send(t, newHandler(t, good), o, "GET", "/t"), labelMiss)
	expectStatus(t, send(t, newHandler(t, good), o, "GET", "/t"), labelHit)
	for name, tls := range map[string]string{
		"unknown CA":     `{"client_cert":` + jsonString(files.Cert) + `,"client_key":` + jsonString(files.Key) + `}`,
		"no client cert": `{"ca":` + jsonString(files.CA) + `}`,
	} {
		w := send(t, newHandler(t, storage(tls)), o, "GET", "/t")
		if w.Code != 200 || xcs(w) != labelMiss || !strings.Contains(w.Header().Get("Cache-Status"), "detail=storage-unavailable") {
			t.Errorf("%s: %d %s %q", name, w.Code, xcs(w), w.Header().Get("Cache-Status"))
		}
	}
}
