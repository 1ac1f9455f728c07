package healthgate

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func testConfig() *checkConfig {
	return &checkConfig{uri: "/healthz", method: "GET", interval: time.Second, timeout: 300 * time.Millisecond,
		rise: 2, fall: 3, maxBody: defaultMaxBody}
}

func hostPort(t *testing.T, url string) string {
	t.Helper()
	return strings.TrimPrefix(url, "http://")
}

func runCheck(t *testing.T, c *checkConfig, h http.HandlerFunc) result {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := newCheckClient(func() bool { return c.follow })
	return c.check(context.Background(), client, hostPort(t, srv.URL))
}

func TestCheckPassesLabHealthz(t *testing.T) {
	c := testConfig()
	c.jsonPath, _ = parseJSONPath("status")
	c.jsonValue = "healthy"
	var gotHost, gotPath string
	res := runCheck(t, c, func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotPath = r.Host, r.URL.Path
		w.Write([]byte(`{"status":"healthy"}` + "\n"))
	})
	if !res.ok {
		t.Fatalf("check failed: %s", res.cause)
	}
	if gotPath != "/healthz" || gotHost == "" {
		t.Errorf("request: host %q path %q", gotHost, gotPath)
	}
}

func TestCheckHostHeaderAndMethod(t *testing.T) {
	c := testConfig()
	c.host, c.method = "api.internal", "HEAD"
	var gotHost, gotMethod string
	res := runCheck(t, c, func(w http.ResponseWriter, r *http.Request) { gotHost, gotMethod = r.Host, r.Method })
	if !res.ok || gotHost != "api.internal" || gotMethod != "HEAD" {
		t.Fatalf("ok=%v cause=%q host=%q method=%q", res.ok, res.cause, gotHost, gotMethod)
	}
}

func TestCheckFailures(t *testing.T) {
	never := make(chan struct{})
	defer close(never)
	// Made once, before any check: building 10 MB inside the handler took
	// longer than the 300 ms timeout on a loaded machine (or with -race).
	huge := []byte(strings.Repeat("x", 10<<20))
	cases := []struct {
		name      string
		setup     func(c *checkConfig)
		handler   http.HandlerFunc
		kind      string
		cause     string
		maxTaking time.Duration
	}{
		{"status 500", nil, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, "status", "status 500", time.Second},
		{"redirect not followed", nil, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, "status", "status 302", time.Second},
		{"slow header", nil, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}, "timeout", "timeout after 300ms", time.Second},
		{"never-ending body", func(c *checkConfig) { c.bodyRe = regexp.MustCompile("ok") }, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			for {
				if _, err := w.Write([]byte("xxxxxxxx")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(10 * time.Millisecond):
				case <-r.Context().Done():
					return
				case <-never:
					return
				}
			}
		}, "timeout", "reading body: timeout after 300ms", time.Second},
		{"10 MB body", func(c *checkConfig) { c.bodyRe = regexp.MustCompile("ok") }, func(w http.ResponseWriter, r *http.Request) {
			w.Write(huge)
		}, "body", "body mismatch: body larger than max_body (65536 bytes)", time.Second},
		{"body mismatch", func(c *checkConfig) { c.bodyRe = regexp.MustCompile(`^OK$`) }, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("DEGRADED"))
		}, "body", `body mismatch: does not match "^OK$"`, time.Second},
		{"json mismatch", func(c *checkConfig) { c.jsonPath, c.jsonValue = jsonPath{"status"}, "healthy" }, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"status":"unhealthy"}`))
		}, "json", `json mismatch: status is "unhealthy", want "healthy"`, time.Second},
		{"json not json", func(c *checkConfig) { c.jsonPath, c.jsonValue = jsonPath{"status"}, "healthy" }, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<html>`))
		}, "json", "json mismatch: body is not JSON", time.Second},
		{"json field missing", func(c *checkConfig) { c.jsonPath, c.jsonValue = jsonPath{"db", "ok"}, "true" }, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"status":"healthy"}`))
		}, "json", "json mismatch: field db.ok missing", time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig()
			if tc.setup != nil {
				tc.setup(c)
			}
			start := time.Now()
			res := runCheck(t, c, tc.handler)
			took := time.Since(start)
			if res.ok {
				t.Fatal("check passed, want failure")
			}
			if res.kind != tc.kind || !strings.HasPrefix(res.cause, tc.cause) {
				t.Errorf("got kind %q cause %q, want %q %q", res.kind, res.cause, tc.kind, tc.cause)
			}
			if took > tc.maxTaking {
				t.Errorf("check took %s, want under %s", took, tc.maxTaking)
			}
		})
	}
}

func TestCheckFollowRedirectsWhenAsked(t *testing.T) {
	c := testConfig()
	c.follow = true
	res := runCheck(t, c, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			http.Redirect(w, r, "/ok", http.StatusFound)
			return
		}
		w.Write([]byte("fine"))
	})
	if !res.ok {
		t.Fatalf("check failed: %s", res.cause)
	}
}

func TestCheckConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := testConfig()
	res := c.check(context.Background(), newCheckClient(func() bool { return false }), addr)
	if res.ok || res.kind != "refused" || res.cause != "connection refused" {
		t.Fatalf("got ok=%v kind=%q cause=%q", res.ok, res.kind, res.cause)
	}
}
