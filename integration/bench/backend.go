package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// bodySize is the size of the backend's JSON response, in bytes.
const bodySize = 1024

// poweredBy is sent by the backend in X-Powered-By. header_policy's nginx
// preset hides it from clients, so its absence proves the policy is in the
// chain (and the benchmark pays for the hiding), while direct, plain
// reverse_proxy and nginx pass it through.
const poweredBy = "frontdesk-bench"

// body is the fixed 1 KiB JSON document the backend answers with.
var body = makeBody()

func makeBody() []byte {
	prefix := `{"service":"frontdesk-bench","status":"ok","items":[1,2,3,4,5],"padding":"`
	suffix := `"}` + "\n"
	pad := bodySize - len(prefix) - len(suffix)
	b := make([]byte, 0, bodySize)
	b = append(b, prefix...)
	b = append(b, bytes.Repeat([]byte("x"), pad)...)
	b = append(b, suffix...)
	if len(b) != bodySize {
		panic(fmt.Sprintf("backend body is %d bytes, want %d", len(b), bodySize))
	}
	return b
}

// backendHeader is the response header in which a backend started with
// -backend-tag names itself, so the failover scenario can count who served
// each request.
const backendHeader = "X-Backend"

// healthBody is what the backend answers on /healthz, the path the health
// checks of healthgate and HAProxy request.
const healthBody = `{"status":"healthy"}` + "\n"

// serveBackend runs the benchmark's backend on addr until the process is
// killed or its parent (the bench program) goes away. A non-empty tag is sent
// in X-Backend on every response.
func serveBackend(addr, tag string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go exitWithParent()
	srv := &http.Server{Handler: backendHandler(tag), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// backendHandler answers GET (and HEAD) on /healthz with healthBody, on
// the cache benchmark's paths with their objects (counting those requests,
// which cacheCountPath tells), and on any other path with body. The throughput backend has no tag, so its
// responses are the same as before the failover scenario existed.
func backendHandler(tag string) http.Handler {
	contentLength := strconv.Itoa(len(body))
	healthLength := strconv.Itoa(len(healthBody))
	var cached atomic.Int64 // requests for cacheObjects' paths
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		if tag != "" {
			h.Set(backendHeader, tag)
		}
		h.Set("Content-Type", "application/json")
		if r.URL.Path == cacheCountPath {
			h.Set("Content-Type", "text/plain")
			io.WriteString(w, strconv.FormatInt(cached.Load(), 10))
			return
		}
		if obj := findCacheObject(r.URL.Path); obj != nil {
			cached.Add(1)
			h.Set("Content-Type", cacheContentType)
			h.Set("Cache-Control", cacheControl)
			h.Set("Content-Length", strconv.Itoa(len(obj.Body)))
			if r.Method == http.MethodGet {
				w.Write(obj.Body)
			}
			return
		}
		if r.URL.Path == "/healthz" {
			h.Set("Content-Length", healthLength)
			if r.Method == http.MethodGet {
				io.WriteString(w, healthBody)
			}
			return
		}
		h.Set("Content-Length", contentLength)
		h.Set("X-Powered-By", poweredBy)
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	})
}

// exitWithParent ends the backend if the bench program dies without stopping
// it (SIGKILL, crash): the harness starts peers in their own process group,
// so nothing else would.
func exitWithParent() {
	parent := os.Getppid()
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			os.Exit(0)
		}
	}
}
