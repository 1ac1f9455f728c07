package integration

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// streamingBackend serves what seed 002's proxy settings are about: a
// response streamed in chunks, a large compressible body, a WebSocket echo
// and a response that comes too late.
func streamingBackend(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := 1; i <= 5; i++ {
			fmt.Fprintf(w, "chunk %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(300 * time.Millisecond)
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(strings.Repeat("all work and no play\n", 200)))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * time.Second)
		w.Write([]byte("too late"))
	})
	mux.Handle("/ws", websocket.Handler(func(c *websocket.Conn) {
		for {
			var msg string
			if websocket.Message.Receive(c, &msg) != nil {
				return
			}
			if websocket.Message.Send(c, msg) != nil {
				return
			}
		}
	}))
	return startBackend(t, mux).addr()
}

// TestUpstreamFlask runs caddyfile/upstream-flask.Caddyfile (seed 002).
func TestUpstreamFlask(t *testing.T) {
	requirePeer(t, "python3-flask")
	flask, err := harness.StartFlask(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, flask.Process)
	_, proxy := startCaddyfile(t, repoFile(t, "caddyfile/upstream-flask.Caddyfile"), t.TempDir(), "BACKEND_FLASK="+flask.Addr)

	t.Run("flask through the named upstream", func(t *testing.T) {
		got := do(t, "GET", "http://"+proxy+"/api/hello?name=Flask", "", "Host: nginx-public-ip")
		if got.status != 200 || got.body != `{"message":"Hello, Flask!"}`+"\n" {
			t.Fatalf("got %d %q", got.status, got.body)
		}
		h := backendHeaders(t, do(t, "GET", "http://"+proxy+"/api/headers", "", "Host: Nginx-Public-IP:8080").body)
		for k, v := range map[string]string{"Host": "nginx-public-ip", "X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http"} {
			if h[k] != v {
				t.Errorf("backend saw %s %q, want %q (all: %v)", k, h[k], v, h)
			}
		}
	})

	backend := streamingBackend(t)
	_, proxy = startCaddyfile(t, repoFile(t, "caddyfile/upstream-flask.Caddyfile"), t.TempDir(),
		"BACKEND_FLASK="+backend, "PROXY_READ_TIMEOUT=1s")

	t.Run("proxy_buffering off: chunks arrive as they are sent", func(t *testing.T) {
		start := time.Now()
		resp, err := client.Get("http://" + proxy + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		rd := bufio.NewReader(resp.Body)
		var arrivals []time.Duration
		for i := 1; i <= 5; i++ {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("chunk %d: %v", i, err)
			}
			if line != fmt.Sprintf("chunk %d\n", i) {
				t.Fatalf("chunk %d: %q", i, line)
			}
			arrivals = append(arrivals, time.Since(start))
		}
		// The backend needs 1.5 s for the whole body; unbuffered, the first
		// chunk is here long before, and each one about 300 ms after the last.
		if arrivals[0] > 700*time.Millisecond {
			t.Errorf("first chunk after %v: the response was buffered", arrivals[0])
		}
		if gap := arrivals[4] - arrivals[0]; gap < 900*time.Millisecond {
			t.Errorf("chunks 1 to 5 arrived within %v: they came together, not streamed", gap)
		}
	})

	t.Run("gzip", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://"+proxy+"/big", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil || string(body) != strings.Repeat("all work and no play\n", 200) {
			t.Fatalf("decompressed body wrong (%d bytes, %v)", len(body), err)
		}
		// A client that does not ask for gzip gets the plain body.
		if got := do(t, "GET", "http://"+proxy+"/big", ""); got.header.Get("Content-Encoding") != "" || len(got.body) != 4200 {
			t.Errorf("plain request: Content-Encoding %q, %d bytes", got.header.Get("Content-Encoding"), len(got.body))
		}
	})

	t.Run("WebSocket upgrade", func(t *testing.T) {
		ws, err := websocket.Dial("ws://"+proxy+"/ws", "", "http://"+proxy+"/")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		for _, msg := range []string{"hello", "through the proxy", strings.Repeat("x", 10000)} {
			if err := websocket.Message.Send(ws, msg); err != nil {
				t.Fatal(err)
			}
			var echo string
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if err := websocket.Message.Receive(ws, &echo); err != nil {
				t.Fatal(err)
			}
			if echo != msg {
				t.Fatalf("echo %q, want %q", echo[:min(len(echo), 40)], msg[:min(len(msg), 40)])
			}
		}
	})

	t.Run("proxy_read_timeout fires", func(t *testing.T) {
		start := time.Now()
		got := do(t, "GET", "http://"+proxy+"/slow", "")
		took := time.Since(start)
		if got.status != http.StatusGatewayTimeout {
			t.Errorf("status %d, want 504", got.status)
		}
		if took < 900*time.Millisecond || took > 2500*time.Millisecond {
			t.Errorf("answered after %v, want about the 1 s read timeout", took)
		}
	})
}
