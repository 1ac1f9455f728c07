package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// purged records the purges the test purger received.
var purged []stats.PurgeRequest

func init() {
	stats.Register("test_section", func() any { return map[string]int{"answer": 42} })
	stats.SetPurger(func(r stats.PurgeRequest) (int, error) {
		if r.Zone == "missing" {
			return 0, stats.BadRequest{Msg: `no live zone "missing"`}
		}
		purged = append(purged, r)
		return 3, nil
	})
}

func provisioned(t *testing.T) *Handler {
	t.Helper()
	h := &Handler{}
	if err := h.Provision(caddy.Context{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Cleanup() })
	return h
}

// serve runs one request through the handler and returns the response or
// the handler error's status.
func serve(t *testing.T, h *Handler, r *http.Request) (int, http.Header, string) {
	t.Helper()
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, nil); err != nil {
		var he caddyhttp.HandlerError
		if !errors.As(err, &he) {
			t.Fatalf("error %v is not a HandlerError", err)
		}
		return he.StatusCode, w.Header(), he.Err.Error()
	}
	return w.Code, w.Header(), w.Body.String()
}

func TestDataEndpoint(t *testing.T) {
	h := provisioned(t)
	code, hdr, body := serve(t, h, httptest.NewRequest("GET", "/status?data", nil))
	if code != 200 || hdr.Get("Content-Type") != "application/json" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET ?data: %d %v", code, hdr)
	}
	var d struct {
		Test      map[string]int `json:"test_section"`
		Sites     []Site         `json:"sites"`
		Generated time.Time      `json:"generated"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.Test["answer"] != 42 || d.Sites == nil || time.Since(d.Generated) > time.Minute {
		t.Errorf("data %s: want the registered section, an empty site list and the time", body)
	}
	if code, _, _ := serve(t, h, httptest.NewRequest("POST", "/status?data", nil)); code != http.StatusMethodNotAllowed {
		t.Errorf("POST ?data: %d, want 405", code)
	}
	if !stats.Watched() {
		t.Error("a provisioned dashboard does not make the modules gather")
	}
}

func TestPageIsSelfContained(t *testing.T) {
	h := provisioned(t)
	code, hdr, body := serve(t, h, httptest.NewRequest("GET", "/status", nil))
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || hdr.Get("Content-Security-Policy") != pageCSP {
		t.Fatalf("GET: %d %v", code, hdr)
	}
	if strings.Contains(body, "{{") {
		t.Error("the page has an unfilled placeholder")
	}
	for _, want := range []string{`<meta name="fd-data" content="?data">`, `<meta name="fd-purge" content="?purge">`, `<meta name="fd-refresh" content="3000">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if ext := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`).FindString(body); ext != "" {
		t.Errorf("the page loads an external asset: %s", ext)
	}
	if code, _, _ := serve(t, h, httptest.NewRequest("DELETE", "/status", nil)); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d, want 405", code)
	}
}

// TestPurgeOnlyFromThePage: a purge needs POST, the custom header, a JSON
// body and the page's own origin; everything else is refused before the
// cache sees it.
func TestPurgeOnlyFromThePage(t *testing.T) {
	h := provisioned(t)
	good := map[string]string{PurgeHeader: PurgeHeaderValue, "Content-Type": "application/json", "Origin": "http://dash.test"}
	with := func(changes map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range good {
			out[k] = v
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name    string
		method  string
		headers map[string]string
		body    string
		want    int
	}{
		{"from the page", "POST", good, `{"key":"k"}`, 200},
		{"Referer without Origin", "POST", with(map[string]string{"Origin": "", "Referer": "http://dash.test/status"}), `{"prefix":"/a"}`, 200},
		{"same-origin fetch metadata", "POST", with(map[string]string{"Sec-Fetch-Site": "same-origin"}), `{"tag":"t"}`, 200},
		{"GET", "GET", good, "", 405},
		{"other origin", "POST", with(map[string]string{"Origin": "http://evil.test"}), `{"key":"k"}`, 403},
		{"other scheme", "POST", with(map[string]string{"Origin": "https://dash.test"}), `{"key":"k"}`, 403},
		{"cross-site fetch metadata", "POST", with(map[string]string{"Sec-Fetch-Site": "cross-site"}), `{"key":"k"}`, 403},
		{"no Origin or Referer", "POST", with(map[string]string{"Origin": ""}), `{"key":"k"}`, 403},
		{"no custom header", "POST", with(map[string]string{PurgeHeader: ""}), `{"key":"k"}`, 403},
		{"form body", "POST", with(map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), `key=k`, 403},
		{"unknown field", "POST", good, `{"url_prefix":"x"}`, 400},
		{"unknown zone", "POST", good, `{"zone":"missing","key":"k"}`, 400},
	}
	for _, c := range cases {
		purged = nil
		r := httptest.NewRequest(c.method, "http://dash.test/status?purge", strings.NewReader(c.body))
		for k, v := range c.headers {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		code, _, body := serve(t, h, r)
		if code != c.want {
			t.Errorf("%s: %d (%s), want %d", c.name, code, body, c.want)
		}
		if (c.want == 200) != (len(purged) == 1) {
			t.Errorf("%s: the cache got %d purges", c.name, len(purged))
		}
		if c.want == 200 && body != "{\"purged\":3}\n" {
			t.Errorf("%s: body %q", c.name, body)
		}
	}
}

func TestCaddyfile(t *testing.T) {
	for _, c := range []struct {
		in, err string
		refresh time.Duration
	}{
		{"frontdesk_dashboard", "", 0},
		{"frontdesk_dashboard {\n refresh 10s\n}", "", 10 * time.Second},
		{"frontdesk_dashboard {\n refresh 100ms\n}", `refresh: want a duration of at least 1s, got "100ms"`, 0},
		{"frontdesk_dashboard {\n refresh\n}", "refresh: want exactly one duration", 0},
		{"frontdesk_dashboard {\n colour red\n}", `unknown option "colour" (known: refresh)`, 0},
		{"frontdesk_dashboard extra", `unexpected argument "extra"`, 0},
	} {
		h := new(Handler)
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.in))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "frontdesk_dashboard: ")):
			t.Errorf("%q: error %v, want one with %q", c.in, err, c.err)
		case err == nil && time.Duration(h.Refresh) != c.refresh:
			t.Errorf("%q: refresh %s, want %s", c.in, time.Duration(h.Refresh), c.refresh)
		}
	}
	h := &Handler{Refresh: caddy.Duration(time.Millisecond)}
	if err := h.Provision(caddy.Context{}); err == nil {
		t.Error("JSON refresh of 1ms provisioned")
	}
}

func TestAdminRoutes(t *testing.T) {
	routes := map[string]caddy.AdminHandler{}
	for _, r := range (Admin{}).Routes() {
		routes[r.Pattern] = r.Handler
	}
	w := httptest.NewRecorder()
	if err := routes[adminPage].ServeHTTP(w, httptest.NewRequest("GET", adminPage, nil)); err != nil || !strings.Contains(w.Body.String(), `content="`+adminData+`"`) {
		t.Errorf("page: %v, data URL missing", err)
	}
	w = httptest.NewRecorder()
	if err := routes[adminData].ServeHTTP(w, httptest.NewRequest("GET", adminData, nil)); err != nil || !strings.Contains(w.Body.String(), `"test_section"`) {
		t.Errorf("data: %v %s", err, w.Body)
	}
	r := httptest.NewRequest("POST", "http://localhost:2019"+adminPurge, strings.NewReader(`{"key":"k"}`))
	r.Header.Set("Origin", "http://evil.test")
	r.Header.Set(PurgeHeader, PurgeHeaderValue)
	r.Header.Set("Content-Type", "application/json")
	var ae caddy.APIError
	if err := routes[adminPurge].ServeHTTP(httptest.NewRecorder(), r); !errors.As(err, &ae) || ae.HTTPStatus != http.StatusForbidden {
		t.Errorf("cross-origin admin purge: %v, want 403", err)
	}
}
