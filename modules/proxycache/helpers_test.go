package proxycache

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// origin is a test origin behind the cache.
type origin struct {
	mu    sync.Mutex
	n     atomic.Int64
	reqs  []*http.Request
	serve func(w http.ResponseWriter, r *http.Request) error
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	o.n.Add(1)
	o.mu.Lock()
	o.reqs = append(o.reqs, r.Clone(context.Background()))
	o.mu.Unlock()
	return o.serve(w, r)
}

func (o *origin) last() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reqs[len(o.reqs)-1]
}

// respond returns an origin answering with status, header pairs and body.
func respond(status int, body string, hdr ...string) *origin {
	return &origin{serve: func(w http.ResponseWriter, r *http.Request) error {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Add(hdr[i], hdr[i+1])
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
		return nil
	}}
}

// newHandler provisions a handler from JSON, with a memory zone of its own.
func newHandler(t testing.TB, cfg string) *Handler {
	t.Helper()
	if cfg == "" {
		cfg = "{}"
	}
	var h Handler
	if err := json.Unmarshal([]byte(cfg), &h); err != nil {
		t.Fatal(err)
	}
	if h.StorageRaw == nil {
		h.StorageRaw = json.RawMessage(`{"module":"memory","zone":` + strings.ReplaceAll(jsonString(t.Name()), "/", "_") + `}`)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() { h.Cleanup() })
	return &h
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

// send runs one request through h with o as the origin. hdr are "Name: value".
func send(t testing.TB, h *Handler, o caddyhttp.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.Host = "example.com"
	for _, kv := range hdr {
		k, v, _ := strings.Cut(kv, ": ")
		r.Header.Add(k, v)
	}
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	r = r.WithContext(ctx)
	caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, o); err != nil {
		var he caddyhttp.HandlerError
		if ok := asHandlerError(err, &he); ok {
			w.Code = he.StatusCode
		} else {
			w.Code = 500
		}
		w.Header().Set("X-Test-Error", err.Error())
	}
	return w
}

func asHandlerError(err error, he *caddyhttp.HandlerError) bool {
	e, ok := err.(caddyhttp.HandlerError)
	if ok {
		*he = e
	}
	return ok
}

func xcs(w *httptest.ResponseRecorder) string { return w.Header().Get("X-Cache-Status") }

// expectSeq sends GET target n times and checks the X-Cache-Status values.
func expectStatus(t *testing.T, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	if got := xcs(w); got != want {
		t.Fatalf("X-Cache-Status %q, want %q (Cache-Status %q, code %d)", got, want, w.Header().Get("Cache-Status"), w.Code)
	}
}
