package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedAnswers are the lab's endpoints and the exact bodies the seed shows
// (compact JSON, keys in the seed's order, newline-terminated like Flask).
var seedAnswers = []struct {
	method, path, body, want string
}{
	{"GET", "/", "", `{"application":"Linux Mastery API","version":"1.0","endpoints":["/","/healthz","/api/hello","/api/echo"]}` + "\n"},
	{"GET", "/healthz", "", `{"status":"healthy"}` + "\n"},
	{"GET", "/api/hello?name=Linux", "", `{"message":"Hello, Linux!"}` + "\n"},
	{"GET", "/api/hello?name=DevOps", "", `{"message":"Hello, DevOps!"}` + "\n"},
	{"GET", "/api/hello", "", `{"message":"Hello, World!"}` + "\n"},
	{"POST", "/api/echo", `{"course": "Linux Mastery"}`, `{"echoed":{"course":"Linux Mastery"}}` + "\n"},
}

// TestLabAPIDirect: the Flask API answers every endpoint as the seed shows
// (checklist: "The Flask API runs and responds on port 8080"; here on a free
// port, the quick start uses 8080).
func TestLabAPIDirect(t *testing.T) {
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	for _, c := range seedAnswers {
		extra := []string{"Host: 127.0.0.1"}
		if c.body != "" {
			extra = append(extra, "Content-Type: application/json")
		}
		got := do(t, c.method, "http://"+l.flask.Addr+c.path, c.body, extra...)
		if got.status != 200 || got.body != c.want {
			t.Errorf("%s %s direct: got %d %q, want 200 %q", c.method, c.path, got.status, got.body, c.want)
		}
		if ct := got.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s direct: Content-Type %q", c.method, c.path, ct)
		}
	}
	got := do(t, "GET", "http://"+l.flask.Addr+"/api/headers", "", "Host: localhost:8080")
	want := `{"headers":{"Host":"localhost:8080","User-Agent":"curl/7.88.1","Accept":"*/*","Connection":"close"}}` + "\n"
	if got.body != want {
		t.Errorf("/api/headers direct: got %q, want %q", got.body, want)
	}
}

// TestLabProxiesEveryEndpoint: frontdesk forwards all endpoints for Host
// myapp.local with the same status, body and content type.
func TestLabProxiesEveryEndpoint(t *testing.T) {
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	for _, c := range seedAnswers {
		var extra []string
		if c.body != "" {
			extra = append(extra, "Content-Type: application/json")
		}
		got := do(t, c.method, "http://"+l.proxy+c.path, c.body, extra...)
		if got.status != 200 || got.body != c.want {
			t.Errorf("%s %s via frontdesk: got %d %q, want 200 %q", c.method, c.path, got.status, got.body, c.want)
		}
		if ct := got.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s via frontdesk: Content-Type %q", c.method, c.path, ct)
		}
	}
	// The lab's Step 1 of Part 4: status only.
	if got := do(t, "GET", "http://"+l.proxy+"/healthz", ""); got.status != 200 {
		t.Errorf("/healthz via frontdesk: status %d", got.status)
	}
}

// TestLabForwardedHeaders is the lab's "critical test": /api/headers shows
// what the Flask app receives through the proxy.
func TestLabForwardedHeaders(t *testing.T) {
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	got := do(t, "GET", "http://"+l.proxy+"/api/headers", "")
	if got.status != 200 {
		t.Fatalf("status %d: %s", got.status, got.body)
	}
	want := map[string]string{
		"Host":              "myapp.local",
		"X-Real-Ip":         "127.0.0.1",
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Proto": "http",
		"User-Agent":        "curl/7.88.1",
		"Accept":            "*/*",
	}
	assertHeaders(t, "lab /api/headers", backendHeaders(t, got.body), want)

	// A forged X-Real-IP / X-Forwarded-* from the client never reaches the app.
	got = do(t, "GET", "http://"+l.proxy+"/api/headers", "",
		"X-Real-IP: 6.6.6.6", "X-Forwarded-For: 1.2.3.4", "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example")
	assertHeaders(t, "lab /api/headers spoofed", backendHeaders(t, got.body), want)
}

// TestLabHidesBackendIdentity: the upstream's Server and X-Powered-By never
// reach the client.
func TestLabHidesBackendIdentity(t *testing.T) {
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "Werkzeug/2.2.2 Python/3.11.2")
		w.Header().Set("X-Powered-By", "PHP/8.2.7")
		w.Header().Set("X-App", "kept")
		w.Write([]byte("ok"))
	}))
	_, proxy := startFrontdesk(t, repoFile(t, "caddyfile/lab.Caddyfile"), t.TempDir(), backend.addr())
	got := do(t, "GET", "http://"+proxy+"/", "")
	if got.status != 200 || got.body != "ok" {
		t.Fatalf("got %d %q", got.status, got.body)
	}
	for _, h := range []string{"Server", "X-Powered-By"} {
		if v, ok := got.header[h]; ok {
			t.Errorf("%s reached the client: %q", h, v)
		}
	}
	if got.header.Get("X-App") != "kept" {
		t.Errorf("other upstream headers must pass: X-App = %q", got.header.Get("X-App"))
	}

	// And the same through the real Flask app.
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	direct := do(t, "GET", "http://"+l.flask.Addr+"/healthz", "")
	if !strings.HasPrefix(direct.header.Get("Server"), "Werkzeug/") {
		t.Fatalf("Flask's Server header: %q (expected Werkzeug)", direct.header.Get("Server"))
	}
	if v := do(t, "GET", "http://"+l.proxy+"/healthz", "").header.Values("Server"); len(v) != 0 {
		t.Errorf("Flask's Server header reached the client: %q", v)
	}
}

// TestLabBackendDown: stopping the Flask process gives 502 Bad Gateway and an
// error-log line that names the upstream and "connection refused"; restarting
// it gives 200 again (the lab's Part 4).
func TestLabBackendDown(t *testing.T) {
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	if got := do(t, "GET", "http://"+l.proxy+"/healthz", ""); got.status != 200 {
		t.Fatalf("before stop: %d", got.status)
	}
	l.flask.Stop()

	got := do(t, "GET", "http://"+l.proxy+"/healthz", "")
	if got.status != http.StatusBadGateway || got.body != "502 Bad Gateway\n" {
		t.Fatalf("backend down: %d %q, want 502 with the body \"502 Bad Gateway\" (the lab's curl -s prints it)", got.status, got.body)
	}
	errorLog := filepath.Join(l.logDir, "myapi.error.log")
	var line string
	deadline := time.Now().Add(5 * time.Second)
	for line == "" && time.Now().Before(deadline) {
		b, _ := os.ReadFile(errorLog)
		for _, ln := range strings.Split(string(b), "\n") {
			if strings.Contains(ln, l.flask.Addr) && strings.Contains(ln, "connection refused") {
				line = ln
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if line == "" {
		b, _ := os.ReadFile(errorLog)
		t.Fatalf("no line naming %s and \"connection refused\" in %s:\n%s", l.flask.Addr, errorLog, b)
	}
	// One readable line: time, level, logger, the cause, then the details.
	fields := strings.SplitN(line, "\t", 5)
	if len(fields) != 5 || fields[1] != "ERROR" || !strings.Contains(fields[3], "connection refused") ||
		!strings.Contains(fields[4], `"status": 502`) {
		t.Errorf("error log line: want <time> ERROR <logger> <cause> {... \"status\": 502 ...}, got %q", line)
	}
	if _, err := time.Parse("2006/01/02 15:04:05.000", fields[0]); err != nil {
		t.Errorf("error log line does not start with a readable time: %v: %q", err, line)
	}

	l.startFlask(t)
	got = do(t, "GET", "http://"+l.proxy+"/healthz", "")
	if got.status != 200 || got.body != `{"status":"healthy"}`+"\n" {
		t.Fatalf("after restart: %d %q", got.status, got.body)
	}
	access, _ := os.ReadFile(filepath.Join(l.logDir, "myapi.access.log"))
	if n := strings.Count(string(access), `"uri": "/healthz"`); n != 3 {
		t.Errorf("access log has %d /healthz entries, want 3:\n%s", n, access)
	}
}

// TestLabUnknownHost: a request for a name the lab does not serve gets a
// short page naming the one it does (nginx would answer from its default
// server; Caddy alone answers an empty 200), and is logged.
func TestLabUnknownHost(t *testing.T) {
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	got := do(t, "GET", "http://"+l.proxy+"/", "", "Host: 127.0.0.1")
	if got.status != http.StatusNotFound || !strings.Contains(got.body, "http://myapp.local:") ||
		!strings.Contains(got.body, `Host "127.0.0.1"`) {
		t.Errorf("unknown Host: %d %q, want 404 naming myapp.local and the Host asked for", got.status, got.body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		access, _ := os.ReadFile(filepath.Join(l.logDir, "myapi.access.log"))
		if strings.Contains(string(access), `"host": "127.0.0.1"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unknown-Host request is not in the access log:\n%s", access)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
