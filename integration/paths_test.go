package integration

import (
	"net"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// TestPaths runs caddyfile/paths.Caddyfile (seed 004's path-based routing):
// two services by prefix with the prefix stripped, a WebSocket backend, and
// a single-page app for everything else.
func TestPaths(t *testing.T) {
	users := newRecordingBackend(t, "users")
	tasks := newRecordingBackend(t, "tasks")
	ws := streamingBackend(t)
	root := staticSite(t)
	_, proxy := startCaddyfile(t, repoFile(t, "caddyfile/paths.Caddyfile"), t.TempDir(),
		"USER_SERVICE="+users.addr(), "TASK_SERVICE="+tasks.addr(), "WEBSOCKET_BACKEND="+ws, "FRONTEND_ROOT="+root)
	host := "Host: api.example.com"
	spa := "<!doctype html><title>SPA</title><div id=app></div>\n"

	cases := []struct {
		path, body string
		backend    *recordingBackend
	}{
		{"/api/users/", "backend users /", users},
		{"/api/users/42", "backend users /42", users},
		{"/api/users/42/avatar?size=64", "backend users /42/avatar?size=64", users},
		{"/api/tasks/", "backend tasks /", tasks},
		{"/api/tasks/7/done", "backend tasks /7/done", tasks},
		// Not under a location with a trailing slash: the frontend.
		{"/api/users", spa, nil},
		{"/api/other/1", spa, nil},
		{"/", spa, nil},
		{"/settings/profile", spa, nil},
		{"/style.css", "body { margin: 0 }\n", nil},
	}
	for _, c := range cases {
		before := users.count() + tasks.count()
		got := do(t, "GET", "http://"+proxy+c.path, "", host)
		if got.status != 200 || got.body != c.body {
			t.Errorf("GET %s: %d %q, want 200 %q", c.path, got.status, got.body, c.body)
			continue
		}
		if c.backend == nil {
			if users.count()+tasks.count() != before {
				t.Errorf("GET %s reached a service", c.path)
			}
			continue
		}
		seen := c.backend.last(t)
		if seen.Host != "api.example.com" || seen.Header.Get("X-Real-Ip") != "127.0.0.1" ||
			seen.Header.Get("X-Forwarded-For") != "127.0.0.1" || seen.Header.Get("X-Forwarded-Proto") != "http" {
			t.Errorf("GET %s: service saw Host %q and %v", c.path, seen.Host, seen.Header)
		}
	}

	// /ws goes to the WebSocket backend with its path kept.
	cfg, err := websocket.NewConfig("ws://api.example.com/ws", "http://api.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := websocket.NewClient(cfg, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := websocket.Message.Send(conn, "ping"); err != nil {
		t.Fatal(err)
	}
	var echo string
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := websocket.Message.Receive(conn, &echo); err != nil || echo != "ping" {
		t.Fatalf("WebSocket echo %q, %v", echo, err)
	}
}
