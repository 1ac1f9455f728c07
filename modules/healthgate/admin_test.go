package healthgate

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestAdminAndHealthz(t *testing.T) {
	a, b := newBackend(t, true), newBackend(t, false)
	pool := "admin-" + t.Name()
	s := provision(t, source(pool, Member{Dial: a.addr()}, Member{Dial: b.addr(), Backup: true}))
	defer s.Cleanup()
	waitFor(t, "up", s.members[0].st.serving.Load)
	// a's first checks run back to back: b's first check may still be on.
	waitFor(t, "b checked", func() bool { return s.members[1].st.status().LastError != "" })

	// GET /healthgate/ lists the pool with both upstreams.
	rec := httptest.NewRecorder()
	if err := (Admin{}).serve(rec, httptest.NewRequest("GET", "/healthgate/", nil)); err != nil {
		t.Fatal(err)
	}
	var list struct{ Pools []PoolStatus }
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	var p *PoolStatus
	for i := range list.Pools {
		if list.Pools[i].Name == pool {
			p = &list.Pools[i]
		}
	}
	if p == nil || len(p.Upstreams) != 2 || p.Serving != 1 || p.Upstreams[0].State != stateUp ||
		p.Upstreams[1].Role != "backup" || p.Upstreams[1].State != stateGated || p.Upstreams[1].LastError != "status 503" {
		t.Fatalf("listing: %s", rec.Body)
	}

	hz := &Healthz{Pools: []string{pool}, MinHealthy: 1}
	rec = httptest.NewRecorder()
	_ = hz.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil), nil)
	if rec.Code != 200 || rec.Body.String() != "{\"status\":\"healthy\"}\n" {
		t.Fatalf("healthz: %d %s", rec.Code, rec.Body)
	}

	// Drain through the API: healthz turns 503 with detail.
	rec = httptest.NewRecorder()
	err := (Admin{}).serve(rec, httptest.NewRequest("POST", "/healthgate/drain?pool="+pool+"&upstream="+a.addr(), nil))
	if err != nil || !strings.Contains(rec.Body.String(), `"state":"drained"`) {
		t.Fatalf("drain: %v %s", err, rec.Body)
	}
	rec = httptest.NewRecorder()
	_ = hz.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil), nil)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"state":"drained"`) || !strings.Contains(rec.Body.String(), `"last_error":"status 503"`) {
		t.Fatalf("healthz after drain: %d %s", rec.Code, rec.Body)
	}

	for _, c := range []struct {
		method, url string
		code        int
	}{
		{"POST", "/healthgate/drain?pool=" + pool + "&upstream=127.0.0.1:1", http.StatusNotFound},
		{"POST", "/healthgate/drain?pool=" + pool, http.StatusBadRequest},
		{"POST", "/healthgate/explode?pool=" + pool + "&upstream=" + a.addr(), http.StatusBadRequest},
		{"DELETE", "/healthgate/", http.StatusMethodNotAllowed},
		{"GET", "/healthgate/drain", http.StatusMethodNotAllowed},
	} {
		err := (Admin{}).serve(httptest.NewRecorder(), httptest.NewRequest(c.method, c.url, nil))
		if err == nil {
			t.Errorf("%s %s: no error", c.method, c.url)
			continue
		}
		if got := statusOf(err); got != c.code {
			t.Errorf("%s %s: status %d, want %d (%v)", c.method, c.url, got, c.code, err)
		}
	}
}

func statusOf(err error) int {
	if ae, ok := err.(caddy.APIError); ok {
		return ae.HTTPStatus
	}
	return 0
}
