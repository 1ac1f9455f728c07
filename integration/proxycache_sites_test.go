package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// twoSitesCaddyfile is one host name on two ports, each with a bare
// proxy_cache (so both use the zone "default") and its own backend.
var twoSitesCaddyfile = globalBlock("auto_https off") + `
http://localhost:{$FRONTDESK_HTTP_PORT} {
	bind 127.0.0.1
	proxy_cache {
		valid 200 10m
	}
	reverse_proxy {$BACKEND_A}
}

http://localhost:{$SECOND_PORT} {
	bind 127.0.0.1
	header_policy nginx
	proxy_cache {
		valid 200 10m
	}
	reverse_proxy {$BACKEND_B}
}
`

// startTwoSites runs twoSitesCaddyfile and returns the frontdesk process and
// the two sites' addresses.
func startTwoSites(t *testing.T, a, b *recordingBackend) (*harness.Frontdesk, string, string) {
	t.Helper()
	port2 := freePort(t)
	path := filepath.Join(t.TempDir(), "two-sites.Caddyfile")
	if err := os.WriteFile(path, []byte(twoSitesCaddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, addrA := startCaddyfile(t, path, t.TempDir(),
		"SECOND_PORT="+strconv.Itoa(port2), "BACKEND_A="+a.addr(), "BACKEND_B="+b.addr())
	addrB := "127.0.0.1:" + strconv.Itoa(port2)
	if err := fd.WaitTCP(addrB, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return fd, addrA, addrB
}

// TestProxyCacheSitesOnTwoPorts: two sites with one host name on two ports
// never answer with each other's stored responses, whatever port the
// client writes in Host; purge by key takes the documented default key.
func TestProxyCacheSitesOnTwoPorts(t *testing.T) {
	backendA, backendB := newRecordingBackend(t, "A"), newRecordingBackend(t, "B")
	fd, addrA, addrB := startTwoSites(t, backendA, backendB)
	hostA, hostB := "localhost:"+portOf(addrA), "localhost:"+portOf(addrB)

	get := func(addr, host string) response {
		t.Helper()
		return do(t, "GET", "http://"+addr+"/page", "", "Host: "+host)
	}
	expect := func(r response, status, body, what string) {
		t.Helper()
		if r.status != 200 || r.header.Get("X-Cache-Status") != status || r.body != body {
			t.Errorf("%s: %d %s %q, want 200 %s %q", what, r.status, r.header.Get("X-Cache-Status"), r.body, status, body)
		}
	}
	expect(get(addrA, hostA), "MISS", "backend A /page", "site A, first")
	expect(get(addrB, hostB), "MISS", "backend B /page", "site B after site A stored /page")
	expect(get(addrB, hostB), "HIT", "backend B /page", "site B again")
	expect(get(addrA, hostB), "HIT", "backend A /page", "site A with site B's port in Host")
	expect(get(addrB, "LocalHost"), "HIT", "backend B /page", "site B with no port in Host")
	if backendA.count() != 1 || backendB.count() != 1 {
		t.Errorf("backend requests: A %d, B %d, want 1 each", backendA.count(), backendB.count())
	}

	// Purge site A's entry by its default key: site B keeps its own.
	code, body := adminAPI(fd.Admin).do(t, "POST", "/proxy_cache/purge", `{"key":"GEThttplocalhost:`+portOf(addrA)+`/page"}`)
	if code != 200 || body != `{"purged":1}`+"\n" && body != `{"purged":1}` {
		t.Fatalf("purge by key: %d %s", code, body)
	}
	expect(get(addrA, hostA), "MISS", "backend A /page", "site A after its purge")
	expect(get(addrB, hostB), "HIT", "backend B /page", "site B after site A's purge")
}
