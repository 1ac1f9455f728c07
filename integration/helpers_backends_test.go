package integration

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Test backends: the Go HTTP server every test backend is, a recording
// backend, and small response helpers.

// testBackend is a Go HTTP server on a free loopback port, closed when the
// test ends.
type testBackend struct{ *httptest.Server }

// startBackend serves h on a free loopback port until the test ends.
func startBackend(t *testing.T, h http.Handler) testBackend {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return testBackend{srv}
}

// addr is the backend's host:port.
func (b testBackend) addr() string { return strings.TrimPrefix(b.URL, "http://") }

// seenRequest is what a recording backend received.
type seenRequest struct {
	Method, URI, Host string
	Header            http.Header
}

// recordingBackend is a Go test server that records every request it gets
// and answers "backend <name> <uri>".
type recordingBackend struct {
	testBackend
	name string
	mu   sync.Mutex
	seen []seenRequest
}

func newRecordingBackend(t *testing.T, name string) *recordingBackend {
	t.Helper()
	b := &recordingBackend{name: name}
	b.testBackend = startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.seen = append(b.seen, seenRequest{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header.Clone()})
		b.mu.Unlock()
		if r.URL.Path == "/healthz" {
			// The lab API's health answer, for active checks.
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"healthy"}` + "\n"))
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("backend " + b.name + " " + r.RequestURI))
	}))
	return b
}

// last is the most recent request; the test fails if there was none.
func (b *recordingBackend) last(t *testing.T) seenRequest {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.seen) == 0 {
		t.Fatalf("backend %s received no request", b.name)
	}
	return b.seen[len(b.seen)-1]
}

// count is how many requests the backend received.
func (b *recordingBackend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.seen)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
