package errorpage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// failed is a request as Caddy hands it to the error routes.
func failed(method string, err error) *http.Request {
	r := httptest.NewRequest(method, "http://myapp.local/healthz", nil)
	repl := caddy.NewReplacer()
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.ErrorCtxKey, err)
	return r.WithContext(ctx)
}

func TestServeHTTP(t *testing.T) {
	refused := caddyhttp.Error(http.StatusBadGateway, errors.New("dial tcp 127.0.0.1:8080: connect: connection refused"))
	for _, c := range []struct {
		name       string
		page       Handler
		method     string
		err        error
		wantStatus int
		wantBody   string
		wantLog    string // "" = nothing logged
	}{
		{"502 default page", Handler{}, "GET", refused, 502, "502 Bad Gateway\n", "dial tcp 127.0.0.1:8080: connect: connection refused"},
		{"HEAD has no body", Handler{}, "HEAD", refused, 502, "", "dial tcp 127.0.0.1:8080: connect: connection refused"},
		{"404 is not logged", Handler{}, "GET", caddyhttp.Error(404, nil), 404, "404 Not Found\n", ""},
		{"own body", Handler{Body: "down: {http.error.status_code}"}, "GET", refused, 502, "down: 502", "dial tcp 127.0.0.1:8080: connect: connection refused"},
		{"a plain error is a 500", Handler{}, "GET", errors.New("boom"), 500, "500 Internal Server Error\n", "boom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			h := c.page
			if h.Body == "" {
				h.Body = defaultBody
			}
			h.ContentType = "text/plain; charset=utf-8"
			h.logger = zap.New(core).Named(errorLoggerName)
			r := failed(c.method, c.err)
			repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
			if he, ok := c.err.(caddyhttp.HandlerError); ok {
				repl.Set("http.error.status_code", he.StatusCode)
				repl.Set("http.error.status_text", http.StatusText(he.StatusCode))
			} else {
				repl.Set("http.error.status_code", 500)
				repl.Set("http.error.status_text", http.StatusText(500))
			}
			w := httptest.NewRecorder()
			if err := h.ServeHTTP(w, r, nil); err != nil {
				t.Fatal(err)
			}
			if w.Code != c.wantStatus || w.Body.String() != c.wantBody {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Body.String(), c.wantStatus, c.wantBody)
			}
			if c.method != "HEAD" && w.Header().Get("Content-Length") != strconv.Itoa(len(c.wantBody)) {
				t.Errorf("Content-Length %q for %q", w.Header().Get("Content-Length"), c.wantBody)
			}
			entries := logs.All()
			switch {
			case c.wantLog == "" && len(entries) != 0:
				t.Errorf("logged %v, want nothing", entries)
			case c.wantLog != "" && (len(entries) != 1 || entries[0].Message != c.wantLog ||
				entries[0].Level != zap.ErrorLevel || entries[0].LoggerName != errorLoggerName):
				t.Errorf("logged %+v, want one error %q on %s", entries, c.wantLog, errorLoggerName)
			case c.wantLog != "" && entries[0].ContextMap()["status"] != int64(c.wantStatus):
				t.Errorf("logged status %v, want %d", entries[0].ContextMap()["status"], c.wantStatus)
			}
		})
	}
}

func TestCaddyfile(t *testing.T) {
	for _, c := range []struct {
		in, wantExpr, wantErr string
		wantBody              string
	}{
		{in: "error_page", wantExpr: ""},
		{in: "error_page 502 503 504", wantExpr: "{http.error.status_code} in [502, 503, 504]"},
		{in: "error_page 5xx 404", wantExpr: "{http.error.status_code} >= 500 && {http.error.status_code} <= 599 || {http.error.status_code} in [404]"},
		{in: "error_page 502 {\n body \"upstream down\"\n}", wantExpr: "{http.error.status_code} in [502]", wantBody: "upstream down"},
		{in: "error_page 200", wantErr: `status "200"`},
		{in: "error_page 3xx", wantErr: `status "3xx"`},
		{in: "error_page 50", wantErr: `status "50"`},
		{in: "error_page {\n body\n}", wantErr: "body needs a value"},
		{in: "error_page {\n body a b\n}", wantErr: "takes one value"},
		{in: "error_page {\n color red\n}", wantErr: `unknown option "color"`},
	} {
		h := httpcaddyfile.Helper{Dispenser: caddyfile.NewTestDispenser(c.in)}
		vals, err := parseCaddyfile(h)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: error %v, want one containing %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if len(vals) != 1 || vals[0].Class != "error_route" {
			t.Fatalf("%q: %+v, want one error_route", c.in, vals)
		}
		route := vals[0].Value.(*caddyhttp.Subroute).Routes[0]
		var expr string
		if len(route.MatcherSetsRaw) == 1 {
			if err := json.Unmarshal(route.MatcherSetsRaw[0]["expression"], &expr); err != nil {
				t.Fatal(err)
			}
		}
		if expr != c.wantExpr {
			t.Errorf("%q: matcher %q, want %q", c.in, expr, c.wantExpr)
		}
		if c.wantBody != "" && !strings.Contains(string(route.HandlersRaw[0]), c.wantBody) {
			t.Errorf("%q: handler %s, want body %q", c.in, route.HandlersRaw[0], c.wantBody)
		}
	}
}

// FuzzCaddyfile: no error_page line crashes the parser.
func FuzzCaddyfile(f *testing.F) {
	for _, s := range []string{"error_page", "error_page 502 503", "error_page 5xx {\n body x\n}", "error_page 4xx {\n content_type text/html\n}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = parseCaddyfile(httpcaddyfile.Helper{Dispenser: caddyfile.NewTestDispenser(in)})
	})
}
