package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// staticSite writes a small single-page-app build: index.html, a stylesheet
// and a directory with its own index.
func staticSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":       "<!doctype html><title>SPA</title><div id=app></div>\n",
		"style.css":        "body { margin: 0 }\n",
		"about/index.html": "<!doctype html><title>About</title>\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestStaticAPI runs caddyfile/static-api.Caddyfile (seed 001): static files
// with a single-page-app fallback, and /api/ proxied with the prefix stripped
// and the four forwarded headers.
func TestStaticAPI(t *testing.T) {
	root := staticSite(t)
	api := newRecordingBackend(t, "api")
	_, proxy := startCaddyfile(t, repoFile(t, "caddyfile/static-api.Caddyfile"), t.TempDir(),
		"STATIC_ROOT="+root, "API_UPSTREAM="+api.addr())
	host := "Host: localhost:" + strings.Split(proxy, ":")[1]

	static := []struct {
		path, body, contentType string
	}{
		{"/", "<!doctype html><title>SPA</title><div id=app></div>\n", "text/html; charset=utf-8"},
		{"/style.css", "body { margin: 0 }\n", "text/css; charset=utf-8"},
		{"/about/", "<!doctype html><title>About</title>\n", "text/html; charset=utf-8"},
		// try_files ... /index.html: client-side routes get the app.
		{"/dashboard/settings", "<!doctype html><title>SPA</title><div id=app></div>\n", "text/html; charset=utf-8"},
		// "/api" without the slash is not the /api/ location, as in nginx.
		{"/api", "<!doctype html><title>SPA</title><div id=app></div>\n", "text/html; charset=utf-8"},
	}
	for _, c := range static {
		got := do(t, "GET", "http://"+proxy+c.path, "", host)
		if got.status != 200 || got.body != c.body || got.header.Get("Content-Type") != c.contentType {
			t.Errorf("GET %s: %d %q (%s), want 200 %q (%s)", c.path, got.status, got.body, got.header.Get("Content-Type"), c.body, c.contentType)
		}
	}
	if api.count() != 0 {
		t.Fatalf("static requests reached the API backend %d times", api.count())
	}

	proxied := []struct{ path, backendURI string }{
		{"/api/users", "/users"},
		{"/api/users?page=2&sort=name", "/users?page=2&sort=name"},
		{"/api/", "/"},
		{"/api/v1/tasks/7", "/v1/tasks/7"},
	}
	for _, c := range proxied {
		got := do(t, "GET", "http://"+proxy+c.path, "", host)
		if got.status != 200 || got.body != "backend api "+c.backendURI {
			t.Errorf("GET %s: %d %q, want the backend to see %s", c.path, got.status, got.body, c.backendURI)
			continue
		}
		seen := api.last(t)
		want := map[string]string{
			"X-Real-Ip":         "127.0.0.1",
			"X-Forwarded-For":   "127.0.0.1",
			"X-Forwarded-Proto": "http",
		}
		for k, v := range want {
			if g := seen.Header.Get(k); g != v {
				t.Errorf("GET %s: backend saw %s %q, want %q", c.path, k, g, v)
			}
		}
		// nginx's $host: the host name without the port.
		if seen.Host != "localhost" {
			t.Errorf("GET %s: backend saw Host %q, want localhost", c.path, seen.Host)
		}
	}

	// The real Flask API behind the same site: /api/healthz is its /healthz.
	requirePeer(t, "python3-flask")
	flask, err := harness.StartFlask(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, flask.Process)
	_, proxy2 := startCaddyfile(t, repoFile(t, "caddyfile/static-api.Caddyfile"), t.TempDir(),
		"STATIC_ROOT="+root, "API_UPSTREAM="+flask.Addr)
	got := do(t, "GET", "http://"+proxy2+"/api/healthz", "")
	if got.status != 200 || got.body != `{"status":"healthy"}`+"\n" {
		t.Errorf("GET /api/healthz via Flask: %d %q", got.status, got.body)
	}
	got = do(t, "GET", "http://"+proxy2+"/api/api/hello?name=Nginx", "")
	if got.status != 200 || got.body != `{"message":"Hello, Nginx!"}`+"\n" {
		t.Errorf("GET /api/api/hello via Flask: %d %q", got.status, got.body)
	}
}
