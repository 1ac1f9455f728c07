package integration

import (
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// unacceptingListener is a loopback port whose accept queue is full: new
// connections are neither accepted nor refused, so dialing it times out.
func unacceptingListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue (backlog 0 holds one); later SYNs are dropped.
	for i := 0; i < 2; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		c.Close()
		t.Skip("the kernel accepted a connection beyond the backlog; cannot make a connect timeout here")
	}
	return addr
}

// TestTimeouts runs caddyfile/timeouts.Caddyfile (seed 004's timeouts and
// proxy_hide_header lines) with the timeouts shortened to one second.
func TestTimeouts(t *testing.T) {
	backend := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "gunicorn")
		w.Header().Set("X-Powered-By", "Express")
		if r.URL.Path == "/slow" {
			time.Sleep(3 * time.Second)
		}
		w.Write([]byte("ok " + r.URL.Path))
	}))
	short := []string{"PROXY_CONNECT_TIMEOUT=1s", "PROXY_SEND_TIMEOUT=1s", "PROXY_READ_TIMEOUT=1s"}
	_, proxy := startCaddyfile(t, repoFile(t, "caddyfile/timeouts.Caddyfile"), t.TempDir(),
		append(short, "API_UPSTREAM="+backend.addr())...)
	host := "Host: api.example.com"

	got := do(t, "GET", "http://"+proxy+"/fast", "", host)
	if got.status != 200 || got.body != "ok /fast" {
		t.Fatalf("GET /fast: %d %q", got.status, got.body)
	}
	for _, h := range []string{"Server", "X-Powered-By"} {
		if v := got.header.Values(h); len(v) != 0 {
			t.Errorf("proxy_hide_header %s: the client got %q", h, v)
		}
	}

	// proxy_read_timeout: the backend answers after 3 s, the proxy gives up
	// after 1 s with 504 Gateway Timeout, as nginx does.
	start := time.Now()
	got = do(t, "GET", "http://"+proxy+"/slow", "", host)
	if took := time.Since(start); got.status != http.StatusGatewayTimeout || took < 900*time.Millisecond || took > 2500*time.Millisecond {
		t.Errorf("read timeout: %d after %v, want 504 after about 1 s", got.status, took)
	}

	// proxy_connect_timeout: an upstream that never completes the handshake.
	// The timeout fires after 1 s; Caddy reports a failed dial as 502 where
	// nginx says 504 (documented in the Caddyfile).
	_, proxy = startCaddyfile(t, repoFile(t, "caddyfile/timeouts.Caddyfile"), t.TempDir(),
		append(short, "API_UPSTREAM="+unacceptingListener(t))...)
	start = time.Now()
	got = do(t, "GET", "http://"+proxy+"/", "", host)
	if took := time.Since(start); got.status != http.StatusBadGateway || took < 900*time.Millisecond || took > 2500*time.Millisecond {
		t.Errorf("connect timeout: %d after %v, want 502 after about 1 s", got.status, took)
	}
}
