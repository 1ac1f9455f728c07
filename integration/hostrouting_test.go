package integration

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pageRequests counts the requests a backend got other than health checks.
func (b *recordingBackend) pageRequests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.seen {
		if r.URI != "/health" {
			n++
		}
	}
	return n
}

// TestHostRouting runs caddyfile/hostrouting.Caddyfile (seed 004's HAProxy
// frontend): Host-based routing with a default backend, active checks, a
// backup server, and the stats page behind basic auth.
func TestHostRouting(t *testing.T) {
	api1, api2, api3 := newRecordingBackend(t, "api1"), newRecordingBackend(t, "api2"), newRecordingBackend(t, "api3")
	web1, web2 := newRecordingBackend(t, "web1"), newRecordingBackend(t, "web2")
	statsPort := freePort(t)
	stats := "127.0.0.1:" + strconv.Itoa(statsPort)
	_, proxy := startCaddyfile(t, repoFile(t, "caddyfile/hostrouting.Caddyfile"), t.TempDir(),
		"STATS_PORT="+strconv.Itoa(statsPort), "HEALTH_INTERVAL=100ms",
		"API1="+api1.addr(), "API2="+api2.addr(), "API3="+api3.addr(), "WEB1="+web1.addr(), "WEB2="+web2.addr())

	// rise 2 at 100 ms: wait until both pools serve.
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := do(t, "GET", "http://"+proxy+"/warmup", "", "Host: api.example.com")
		w := do(t, "GET", "http://"+proxy+"/warmup", "", "Host: example.com")
		if a.status == 200 && w.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pools not serving after 10 s: api %d, www %d", a.status, w.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	apiBefore := api1.pageRequests() + api2.pageRequests()
	wwwBefore := web1.pageRequests() + web2.pageRequests()

	for i := 0; i < 20; i++ {
		for host, want := range map[string]string{
			"api.example.com":   "backend api",
			"API.Example.COM":   "backend api", // hdr(host) -i
			"example.com":       "backend web",
			"other.example.net": "backend web", // default_backend
		} {
			got := do(t, "GET", "http://"+proxy+"/page/"+strconv.Itoa(i), "", "Host: "+host)
			if got.status != 200 || !strings.HasPrefix(got.body, want) || !strings.HasSuffix(got.body, " /page/"+strconv.Itoa(i)) {
				t.Fatalf("Host %s: %d %q, want %s...", host, got.status, got.body, want)
			}
		}
	}
	if n := api1.pageRequests() + api2.pageRequests() - apiBefore; n != 40 {
		t.Errorf("api_backend served %d requests, want 40", n)
	}
	if n := web1.pageRequests() + web2.pageRequests() - wwwBefore; n != 40 {
		t.Errorf("www_backend served %d requests, want 40", n)
	}
	// round robin: both web servers share the load; the backup is idle.
	if web1.pageRequests() < 15 || web2.pageRequests() < 15 {
		t.Errorf("round robin: web1 %d, web2 %d", web1.pageRequests(), web2.pageRequests())
	}
	if api3.pageRequests() != 0 {
		t.Errorf("backup api3 served %d requests while the primaries were up", api3.pageRequests())
	}
	// option forwardfor
	if xff := web1.last(t).Header.Get("X-Forwarded-For"); xff != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q", xff)
	}

	// The primaries go down: the backup takes over.
	api1.Close()
	api2.Close()
	deadline = time.Now().Add(10 * time.Second)
	for {
		got := do(t, "GET", "http://"+proxy+"/failover", "", "Host: api.example.com")
		if got.status == 200 && got.body == "backend api3 /failover" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup did not take over: %d %q", got.status, got.body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// stats auth admin:changeme
	if got := do(t, "GET", "http://"+stats+"/haproxy?stats", ""); got.status != http.StatusUnauthorized {
		t.Errorf("stats page without credentials: %d, want 401", got.status)
	}
	req, _ := http.NewRequest("GET", "http://"+stats+"/haproxy?stats", nil)
	req.SetBasicAuth("admin", "wrong")
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("stats page with a wrong password: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	req.SetBasicAuth("admin", "changeme")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("stats page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"api_backend", "www_backend", api3.addr(), web1.addr(), web2.addr()} {
		if !strings.Contains(page, want) {
			t.Errorf("stats page lacks %q", want)
		}
	}
}
