package healthgate

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestStatusPage(t *testing.T) {
	a, b := newBackend(t, true), newBackend(t, false)
	pool := "<b>page</b>"
	s := provision(t, source(pool, Member{Dial: a.addr(), Weight: 2}, Member{Dial: b.addr(), Backup: true}))
	defer s.Cleanup()
	waitFor(t, "up", s.members[0].st.serving.Load)
	waitFor(t, "b checked", func() bool { return s.members[1].st.status().LastError != "" })

	p := &StatusPage{Pools: []string{pool}}
	if err := p.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := p.ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil), nil); err != nil {
		t.Fatal(err)
	}
	page := rec.Body.String()
	for _, want := range []string{
		`<meta http-equiv="refresh" content="5">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`Pool &lt;b&gt;page&lt;/b&gt;: 1 of 2 serving`,
		`<tr data-upstream="` + a.addr() + `"><td>` + a.addr() + `</td><td>primary</td><td>2</td><td><span class="state up">up</span>`,
		`<tr data-upstream="` + b.addr() + `"><td>` + b.addr() + `</td><td>backup</td><td>1</td><td><span class="state gated">gated</span>`,
		`<td class="err">status 503</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<b>page</b>") {
		t.Error("pool name not escaped")
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}

	var q StatusPage
	if err := q.UnmarshalCaddyfile(caddyfile.NewTestDispenser("health_status web {\n refresh 10s\n}")); err != nil || q.Pools[0] != "web" || q.Refresh != caddy.Duration(10e9) {
		t.Errorf("parse: %v %+v", err, q)
	}
	if err := q.UnmarshalCaddyfile(caddyfile.NewTestDispenser("health_status {\n refresh 10ms\n}")); err == nil || !strings.Contains(err.Error(), "Testfile:2") {
		t.Errorf("refresh 10ms: %v", err)
	}
}
