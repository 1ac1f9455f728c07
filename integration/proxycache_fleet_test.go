package integration

// A fleet: three Frontdesk instances sharing one cache through Redis — a
// Redis Cluster (3 primaries, 3 replicas) or a Sentinel-managed primary
// (1 primary, 1 replica, 3 sentinels) — each with auth. What one instance
// stores, the others answer from; a purge (key, prefix, tag) on one and
// an unsafe method on another reach all three.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// fleetPassword is the requirepass of the test topologies.
const fleetPassword = "fleet-secret"

// fleetKey is the cache key template of the fleet's Caddyfile: the same
// on every instance whatever port it listens on.
const fleetKey = "{http.request.method}{http.request.scheme}{http.request.host}{http.request.orig_uri}"

// fleetOrigin answers "answer N for <URI>" (N counts its requests), with
// the first path segment as the surrogate key, and 204 to unsafe methods.
type fleetOrigin struct {
	testBackend
	n atomic.Int64
}

func newFleetOrigin(t *testing.T) *fleetOrigin {
	o := &fleetOrigin{}
	o.testBackend = startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := o.n.Add(1)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		w.Header().Set("Surrogate-Key", "group-"+seg)
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("answer " + strconv.FormatInt(n, 10) + " for " + r.RequestURI))
	}))
	return o
}

// fleetInstance is one Frontdesk of the fleet.
type fleetInstance struct {
	name string
	fd   *harness.Frontdesk
	addr string
}

// startFleet runs three Frontdesk instances with the storage block in
// front of origin.
func startFleet(t *testing.T, storage string, origin *fleetOrigin) []*fleetInstance {
	t.Helper()
	body := globalBlock("auto_https off") + `
http://api.example.com:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	proxy_cache {
		storage ` + storage + `
		key ` + fleetKey + `
		valid 200 10m
	}
	reverse_proxy {$BACKEND_POOL}
}
`
	path := filepath.Join(t.TempDir(), "fleet.Caddyfile")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var fleet []*fleetInstance
	for _, name := range []string{"A", "B", "C"} {
		fd, addr := startCaddyfile(t, path, t.TempDir(), "BACKEND_POOL="+origin.addr())
		fleet = append(fleet, &fleetInstance{name: name, fd: fd, addr: addr})
	}
	return fleet
}

// get fetches path from the instance.
func (fi *fleetInstance) get(t *testing.T, path string) response {
	t.Helper()
	return cacheStatus(t, fi.addr, path)
}

// expectFleet checks one response's status and cache status.
func expectFleet(t *testing.T, fi *fleetInstance, path, want string) response {
	t.Helper()
	r := fi.get(t, path)
	if r.status != 200 || r.header.Get("X-Cache-Status") != want {
		t.Errorf("GET %s on %s: %d %s (%q), want 200 %s", path, fi.name, r.status, r.header.Get("X-Cache-Status"), r.body, want)
	}
	return r
}

// fleetPropagation bounds how long a purge or invalidation on one instance
// may take to reach the others (immediate for the shared storage; the
// local tier's bound for the local copies).
const fleetPropagation = 5 * time.Second

// waitGone polls path on fi until its answer is no longer old (the body a
// purge removed), within fleetPropagation, and returns how long after its
// call the first request without old began.
func waitGone(t *testing.T, fi *fleetInstance, path, old, what string) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(fleetPropagation)
	for {
		sent := time.Since(start)
		r := fi.get(t, path)
		if r.status != 200 {
			t.Errorf("GET %s on %s after %s: %d", path, fi.name, what, r.status)
			return sent
		}
		if r.body != old {
			return sent
		}
		if time.Now().After(deadline) {
			t.Errorf("%s on %s still serves %q %s after %s", fi.name, path, old, fleetPropagation, what)
			return sent
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkFleet runs the fleet scenario: MISS on A then HIT on B and C (on
// paths spread over many hash slots); purges by key, prefix and tag on B
// and a POST on C, each seen by the other instances (their local tiers
// included) within fleetPropagation.
func checkFleet(t *testing.T, fleet []*fleetInstance) {
	a, b, c := fleet[0], fleet[1], fleet[2]
	stored := map[string]string{}
	for i := range 12 {
		for _, dir := range []string{"k", "p", "tag", "post"} {
			p := fmt.Sprintf("/%s/%d", dir, i)
			stored[p] = expectFleet(t, a, p, "MISS").body
			for _, fi := range []*fleetInstance{b, c} {
				if r := expectFleet(t, fi, p, "HIT"); r.body != stored[p] {
					t.Errorf("GET %s on %s: %q, A stored %q", p, fi.name, r.body, stored[p])
				}
			}
		}
	}
	if t.Failed() {
		return
	}
	others := []*fleetInstance{a, c}
	purge := func(body, what string, paths []string) {
		t.Helper()
		code, resp := adminAPI(b.fd.Admin).do(t, "POST", "/proxy_cache/purge", body)
		if code != 200 || !strings.Contains(resp, fmt.Sprintf(`"purged":%d`, len(paths))) {
			t.Errorf("%s on B: %d %s, want %d purged", what, code, resp, len(paths))
		}
		var worst time.Duration
		for _, p := range paths {
			for _, fi := range others {
				worst = max(worst, waitGone(t, fi, p, stored[p], what))
			}
		}
		t.Logf("%s on B: A and C stopped serving the %d entries within %s", what, len(paths), worst)
	}
	purge(`{"key":"GEThttpapi.example.com/k/3"}`, "purge by key", []string{"/k/3"})
	var prefixed, tagged []string
	for i := range 12 {
		prefixed = append(prefixed, fmt.Sprintf("/p/%d", i))
		tagged = append(tagged, fmt.Sprintf("/tag/%d", i))
	}
	purge(`{"prefix":"http://api.example.com/p/"}`, "purge by prefix", prefixed)
	purge(`{"tag":"group-tag"}`, "purge by tag", tagged)
	// What was not purged is still shared.
	expectFleet(t, a, "/k/4", "HIT")

	// An unsafe method on C invalidates the URL everywhere.
	if r := do(t, "POST", "http://"+c.addr+"/post/5", "x", "Host: api.example.com"); r.status != 204 {
		t.Errorf("POST on C: %d", r.status)
	}
	for _, fi := range []*fleetInstance{a, b} {
		waitGone(t, fi, "/post/5", stored["/post/5"], "POST on C")
	}
}

// TestProxyCacheFleetCluster: three instances share a Redis Cluster of
// three primaries and three replicas, with a password; with and without
// local tiers.
func TestProxyCacheFleetCluster(t *testing.T) {
	requirePeer(t, "redis-server")
	cluster, err := harness.StartRedisCluster(t.TempDir(), harness.RedisSecurity{Password: fleetPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Stop)
	checkFleetVariants(t, fmt.Sprintf("cluster %s\n\t\t\tpassword %s", strings.Join(cluster.Seeds(), " "), fleetPassword))
}

// checkFleetVariants runs checkFleet on the topology given by the storage
// options, without and with a local tier (each under its own prefix).
func checkFleetVariants(t *testing.T, topology string) {
	for _, v := range []struct{ name, opts string }{
		{"shared", ""},
		{"local", "\n\t\t\tlocal 16m {\n\t\t\t\theartbeat 100ms\n\t\t\t}"},
	} {
		t.Run(v.name, func(t *testing.T) {
			storage := "redis {\n\t\t\t" + topology + "\n\t\t\tprefix fleet-" + v.name + ":" + v.opts + "\n\t\t}"
			checkFleet(t, startFleet(t, storage, newFleetOrigin(t)))
		})
	}
}

// TestProxyCacheFleetSentinel: three instances share a Sentinel-managed
// primary (one replica, three sentinels), with passwords on the data
// nodes and the sentinels; with and without local tiers.
func TestProxyCacheFleetSentinel(t *testing.T) {
	requirePeer(t, "redis-server", "redis-sentinel")
	s, err := harness.StartRedisSentinels(t.TempDir(), harness.RedisSecurity{Password: fleetPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	checkFleetVariants(t, fmt.Sprintf("sentinel %s %s\n\t\t\tsentinel_password %s\n\t\t\tpassword %s",
		s.Master, strings.Join(s.Addrs, " "), fleetPassword, fleetPassword))
}

// TestProxyCacheFleetClusterTLS: the same over TLS — the cluster speaks
// TLS only (clients, bus and replication), with a password; the instances
// trust the test CA.
func TestProxyCacheFleetClusterTLS(t *testing.T) {
	requirePeer(t, "redis-server")
	dir := t.TempDir()
	files, err := harness.WriteTLSFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := harness.StartRedisCluster(dir, harness.RedisSecurity{Password: fleetPassword, TLS: files})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Stop)
	storage := fmt.Sprintf("redis {\n\t\t\tcluster %s\n\t\t\tpassword %s\n\t\t\ttls {\n\t\t\t\tca %s\n\t\t\t}\n\t\t}",
		strings.Join(cluster.Seeds(), " "), fleetPassword, files.CA)
	checkFleet(t, startFleet(t, storage, newFleetOrigin(t)))
}

// TestProxyCacheFleetSentinelTLS: the same over TLS — the primary, the
// replica and the sentinels speak TLS only; the instances trust the test
// CA for the sentinels and the primary alike.
func TestProxyCacheFleetSentinelTLS(t *testing.T) {
	requirePeer(t, "redis-server", "redis-sentinel")
	dir := t.TempDir()
	files, err := harness.WriteTLSFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := harness.StartRedisSentinels(dir, harness.RedisSecurity{Password: fleetPassword, TLS: files})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	storage := fmt.Sprintf("redis {\n\t\t\tsentinel %s %s\n\t\t\tsentinel_password %s\n\t\t\tpassword %s\n\t\t\ttls {\n\t\t\t\tca %s\n\t\t\t}\n\t\t}",
		s.Master, strings.Join(s.Addrs, " "), fleetPassword, fleetPassword, files.CA)
	checkFleet(t, startFleet(t, storage, newFleetOrigin(t)))
}
