package proxycache

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func adminCall(t *testing.T, route, method, body string) (int, map[string]any) {
	t.Helper()
	var h caddy.AdminHandler
	for _, r := range (Admin{}).Routes() {
		if r.Pattern == route {
			h = r.Handler
		}
	}
	w := httptest.NewRecorder()
	err := h.ServeHTTP(w, httptest.NewRequest(method, route, strings.NewReader(body)))
	if err != nil {
		if ae, ok := err.(caddy.APIError); ok {
			return ae.HTTPStatus, map[string]any{"error": ae.Err.Error()}
		}
		t.Fatal(err)
	}
	var v map[string]any
	json.Unmarshal(w.Body.Bytes(), &v)
	return w.Code, v
}

func TestAdminPurgeAndStats(t *testing.T) {
	for _, storage := range []string{"memory", "disk"} {
		t.Run(storage, func(t *testing.T) {
			cfg := `{"storage":{"module":"memory","zone":"admin-test"}}`
			zone := "memory/admin-test"
			if storage == "disk" {
				dir := t.TempDir()
				cfg = `{"storage":{"module":"disk","path":` + jsonString(dir) + `}}`
				zone = "disk/" + dir
			}
			h := newHandler(t, cfg)
			o := &origin{}
			o.serve = func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Surrogate-Key", "all "+strings.Trim(r.URL.Path, "/"))
				if strings.HasPrefix(r.URL.Path, "/api/") {
					w.Header().Set("Cache-Tag", "api, json")
				}
				w.Write([]byte(r.URL.Path))
				return nil
			}
			paths := []string{"/api/a", "/api/b", "/img/c", "/img/d", "/e"}
			fill := func() {
				for _, p := range paths {
					send(t, h, o, "GET", p)
				}
			}
			hits := func() int {
				n := 0
				for _, p := range paths {
					if xcs(send(t, h, o, "GET", p)) == labelHit {
						n++
					}
				}
				return n
			}
			fill()
			if hits() != 5 {
				t.Fatal("not all stored")
			}
			for _, c := range []struct {
				body   string
				purged float64
				left   int
			}{
				{`{"key":"GEThttpexample.com/e"}`, 1, 4},
				{`{"url":"http://example.com/img/c"}`, 1, 4},
				{`{"prefix":"http://example.com/api/"}`, 2, 3},
				{`{"tag":"img/d"}`, 1, 4},
				{`{"tag":"json","zone":"` + zone + `"}`, 2, 3},
				{`{"tag":"all"}`, 5, 0},
			} {
				fill()
				code, v := adminCall(t, "/proxy_cache/purge", "POST", c.body)
				if code != 200 || v["purged"] != c.purged {
					t.Errorf("%s: %d %v, want purged %v", c.body, code, v, c.purged)
				}
				if n := hits(); n != c.left {
					t.Errorf("%s: %d entries left, want %d", c.body, n, c.left)
				}
			}
			code, v := adminCall(t, "/proxy_cache/flush", "POST", "")
			if code != 200 || hits() != 0 {
				t.Errorf("flush: %d %v", code, v)
			}
			fill()
			code, v = adminCall(t, "/proxy_cache/stats", "GET", "")
			z, _ := v["zones"].(map[string]any)[zone].(map[string]any)
			if code != 200 || z == nil || z["objects"] != float64(5) || z["hits"].(float64) < 10 || z["stored"].(float64) < 5 {
				t.Errorf("stats: %d %v", code, v)
			}
			for _, bad := range []string{`{}`, `{"key":"a","url":"b"}`, `{"nope":1}`, `{"tag":"x","zone":"nowhere"}`} {
				if code, _ := adminCall(t, "/proxy_cache/purge", "POST", bad); code == 200 {
					t.Errorf("%s accepted", bad)
				}
			}
		})
	}
}
