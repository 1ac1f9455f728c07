package headerpolicy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/net/http/httpguts"
)

// uuidRE matches Caddy's {http.request.uuid} (a random version 4 UUID).
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func ptr[T any](v T) *T { return &v }

// provision provisions and validates h the way Caddy would, with a quiet logger.
func provision(t testing.TB, h *Handler) (*Handler, caddy.Context) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	h.logger = zap.NewNop()
	return h, ctx
}

// upstream is what the next handler (reverse_proxy, in real life) saw.
type upstream struct {
	called    bool
	header    http.Header
	host      string
	trusted   any
	requestID any
	writer    http.ResponseWriter
}

// respondFunc writes the upstream's response.
type respondFunc func(w http.ResponseWriter) error

// backendResponse is an upstream response with headers to be hidden.
func backendResponse(w http.ResponseWriter) error {
	w.Header().Set("Server", "gunicorn/21.2.0")
	w.Header().Set("X-Powered-By", "Express")
	w.Header().Set("Content-Type", "text/plain")
	_, err := w.Write([]byte("hello"))
	return err
}

// serve runs req through h the way a Caddy server would: with a replacer and
// the vars table in the context.
func serve(t testing.TB, h *Handler, req *http.Request, w http.ResponseWriter, respond respondFunc) (*upstream, *caddy.Replacer) {
	t.Helper()
	repl := caddy.NewReplacer()
	req = caddyhttp.PrepareRequest(req, repl, w, nil)
	up := new(upstream)
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		up.called = true
		up.header = r.Header.Clone()
		up.host = r.Host
		up.trusted = caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey)
		up.requestID = caddyhttp.GetVar(r.Context(), "request_id")
		up.writer = w
		if respond == nil {
			return nil
		}
		return respond(w)
	})
	if err := h.ServeHTTP(w, req, next); err != nil {
		t.Fatalf("ServeHTTP: %v", err)
	}
	if !up.called {
		t.Fatal("next handler was not called")
	}
	return up, repl
}

func newRequest(remote, host string, tlsOn bool, hdr http.Header) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://myapp.local/api/items?x=1", nil)
	req.RemoteAddr = remote
	req.Host = host
	req.TLS = nil
	if tlsOn {
		req.TLS = &tls.ConnectionState{}
	}
	for k, v := range hdr {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	return req
}

// checkHeader asserts exact header values: each key of want must be present
// with exactly those values (a nil slice: present with a nil value, which is
// reverse_proxy's "omit"), and each of absent must be missing.
func checkHeader(t *testing.T, got http.Header, want http.Header, absent []string) {
	t.Helper()
	for k, wv := range want {
		gv, ok := got[k]
		switch {
		case !ok:
			t.Errorf("header %s missing, want %q", k, wv)
		case wv == nil && gv != nil:
			t.Errorf("header %s = %q, want a nil value (omit)", k, gv)
		case !reflect.DeepEqual(gv, wv):
			t.Errorf("header %s = %q, want %q", k, gv, wv)
		}
	}
	for _, k := range absent {
		if v, ok := got[k]; ok {
			t.Errorf("header %s = %q, want it absent", k, v)
		}
	}
}

const (
	clientAddr = "203.0.113.7:51234"
	lbAddr     = "10.0.0.5:4000"
	labHost    = "myapp.local:8000"
)

func TestServeHTTP(t *testing.T) {
	nginx := Handler{Preset: "nginx"}
	nginxLB := Handler{Preset: "nginx", TrustedProxies: []string{"10.0.0.0/8"}}
	plain := Handler{TrustedProxies: []string{"10.0.0.0/8", "::1"}}
	fwd := Handler{TrustedProxies: []string{"10.0.0.0/8", "::1"}, Forwarded: true}

	spoofed := http.Header{
		"X-Real-Ip":         {"1.2.3.4"},
		"X-Forwarded-For":   {"1.2.3.4, 10.0.0.1"},
		"X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host":  {"evil.example"},
		"Forwarded":         {"for=1.2.3.4;proto=https"},
		"Accept":            {"*/*"},
	}
	fromLB := http.Header{
		"X-Real-Ip":         {"198.51.100.9"},
		"X-Forwarded-For":   {"198.51.100.9, 10.1.1.1"},
		"X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host":  {"orig.example"},
		"Forwarded":         {"for=198.51.100.9"},
	}

	tests := []struct {
		name        string
		handler     Handler
		remote      string
		host        string // default labHost
		tls         bool
		header      http.Header
		want        http.Header
		absent      []string
		wantHost    string
		wantTrusted bool
	}{
		{
			name:    "untrusted plain request, nginx preset",
			handler: nginx, remote: clientAddr,
			header: http.Header{"Accept": {"*/*"}, "User-Agent": {"curl/8.5.0"}},
			want: http.Header{
				"X-Real-Ip":         {"203.0.113.7"},
				"X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host":  nil,
				"Accept":            {"*/*"},
				"User-Agent":        {"curl/8.5.0"},
			},
			absent:   []string{"X-Forwarded-For", "Forwarded"},
			wantHost: "myapp.local",
		},
		{
			name:    "untrusted spoofed forwarding headers, nginx preset",
			handler: nginx, remote: clientAddr, header: spoofed,
			want: http.Header{
				"X-Real-Ip":         {"203.0.113.7"},
				"X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host":  nil,
				"Accept":            {"*/*"},
			},
			absent:   []string{"X-Forwarded-For", "Forwarded"},
			wantHost: "myapp.local",
		},
		{
			name:    "untrusted spoofed forwarding headers, default preset",
			handler: plain, remote: clientAddr, header: spoofed,
			want: http.Header{
				"X-Real-Ip":         {"203.0.113.7"},
				"X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host":  {labHost},
			},
			absent:   []string{"X-Forwarded-For", "Forwarded"},
			wantHost: labHost,
		},
		{
			name:    "untrusted over TLS: proto is the request's scheme",
			handler: plain, remote: clientAddr, tls: true,
			header: http.Header{"X-Forwarded-Proto": {"http"}},
			want: http.Header{
				"X-Real-Ip":         {"203.0.113.7"},
				"X-Forwarded-Proto": {"https"},
				"X-Forwarded-Host":  {labHost},
			},
			absent:   []string{"X-Forwarded-For", "Forwarded"},
			wantHost: labHost,
		},
		{
			name:    "trusted proxy with chain, nginx preset",
			handler: nginxLB, remote: lbAddr, header: fromLB,
			want: http.Header{
				"X-Real-Ip":         {"198.51.100.9"},
				"X-Forwarded-For":   {"198.51.100.9, 10.1.1.1"},
				"X-Forwarded-Proto": {"https"},
				"X-Forwarded-Host":  nil,
				"Forwarded":         {"for=198.51.100.9"},
			},
			wantHost: "myapp.local", wantTrusted: true,
		},
		{
			name:    "trusted proxy with chain over several lines, default preset",
			handler: plain, remote: lbAddr,
			header: http.Header{
				"X-Forwarded-For":  {"198.51.100.9", "10.1.1.1"},
				"X-Forwarded-Host": {"orig.example:443"},
			},
			want: http.Header{
				"X-Real-Ip":         {"10.0.0.5"},
				"X-Forwarded-For":   {"198.51.100.9", "10.1.1.1"},
				"X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host":  {"orig.example:443"},
			},
			absent:   []string{"Forwarded"},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "trusted proxy with bad X-Real-IP and bad proto",
			handler: nginxLB, remote: lbAddr,
			header: http.Header{
				"X-Real-Ip":         {"198.51.100.9, 10.1.1.1"},
				"X-Forwarded-Proto": {"javascript"},
			},
			want: http.Header{
				"X-Real-Ip":         {"10.0.0.5"},
				"X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host":  nil,
			},
			absent:   []string{"X-Forwarded-For", "Forwarded"},
			wantHost: "myapp.local", wantTrusted: true,
		},
		{
			name:    "trusted proxy with non-IP X-Real-IP over TLS",
			handler: nginxLB, remote: lbAddr, tls: true,
			header: http.Header{"X-Real-Ip": {"unknown"}, "X-Forwarded-Proto": {"HTTPS"}},
			want: http.Header{
				"X-Real-Ip":         {"10.0.0.5"},
				"X-Forwarded-Proto": {"https"},
			},
			wantHost: "myapp.local", wantTrusted: true,
		},
		{
			name:    "trusted proxy with empty X-Forwarded-Host",
			handler: plain, remote: lbAddr,
			header:   http.Header{"X-Forwarded-Host": {""}},
			want:     http.Header{"X-Forwarded-Host": {labHost}},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "trusted proxy, several X-Forwarded-Proto/Host values: the last counts",
			handler: plain, remote: lbAddr,
			header: http.Header{
				"X-Forwarded-Proto": {"http", "https"},
				"X-Forwarded-Host":  {"a.example", "b.example"},
			},
			want: http.Header{
				"X-Forwarded-Proto": {"https"},
				"X-Forwarded-Host":  {"b.example"},
			},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "trusted proxy, last X-Forwarded-Proto invalid",
			handler: plain, remote: lbAddr,
			header: http.Header{
				"X-Forwarded-Proto": {"https", "gopher"},
				"X-Forwarded-Host":  {"a.example", ""},
			},
			want: http.Header{
				"X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host":  {labHost},
			},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "untrusted IPv6 peer",
			handler: nginx, remote: "[2001:db8::1]:1234",
			header:   http.Header{"X-Real-Ip": {"::1"}, "X-Forwarded-For": {"::1"}},
			want:     http.Header{"X-Real-Ip": {"2001:db8::1"}, "X-Forwarded-Proto": {"http"}},
			absent:   []string{"X-Forwarded-For"},
			wantHost: "myapp.local",
		},
		{
			name:    "trusted IPv6 loopback peer",
			handler: plain, remote: "[::1]:1234",
			header: http.Header{"X-Real-Ip": {"2001:db8::7"}, "X-Forwarded-For": {"2001:db8::7"}},
			want: http.Header{
				"X-Real-Ip":       {"2001:db8::7"},
				"X-Forwarded-For": {"2001:db8::7"},
			},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "IPv6 peer with zone",
			handler: nginx, remote: "[fe80::1%eth0]:1234",
			want:     http.Header{"X-Real-Ip": {"fe80::1"}},
			wantHost: "myapp.local",
		},
		{
			name:    "trusted IPv4-mapped IPv6 peer",
			handler: nginxLB, remote: "[::ffff:10.1.2.3]:1234",
			header: http.Header{"X-Forwarded-For": {"198.51.100.9"}},
			want: http.Header{
				"X-Real-Ip":       {"10.1.2.3"},
				"X-Forwarded-For": {"198.51.100.9"},
			},
			wantHost: "myapp.local", wantTrusted: true,
		},
		{
			name:    "untrusted IPv4-mapped IPv6 peer",
			handler: nginxLB, remote: "[::ffff:203.0.113.7]:1234",
			header:   http.Header{"X-Real-Ip": {"10.9.9.9"}, "X-Forwarded-For": {"10.9.9.9"}},
			want:     http.Header{"X-Real-Ip": {"203.0.113.7"}},
			absent:   []string{"X-Forwarded-For"},
			wantHost: "myapp.local",
		},
		{
			name:    "unix socket peer is not trusted, even with private_ranges",
			handler: Handler{Preset: "nginx", TrustedProxies: []string{"private_ranges"}},
			remote:  "@", header: spoofed,
			want: http.Header{
				"X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host":  nil,
			},
			absent:   []string{"X-Real-Ip", "X-Forwarded-For", "Forwarded"},
			wantHost: "myapp.local",
		},
		{
			name:    "private_ranges trusts a loopback proxy",
			handler: Handler{Preset: "nginx", TrustedProxies: []string{"private_ranges"}},
			remote:  "127.0.0.1:9999", header: fromLB,
			want: http.Header{
				"X-Real-Ip":       {"198.51.100.9"},
				"X-Forwarded-For": {"198.51.100.9, 10.1.1.1"},
			},
			wantHost: "myapp.local", wantTrusted: true,
		},
		{
			name:    "real_ip off removes an untrusted client's X-Real-IP",
			handler: Handler{Preset: "nginx", RealIP: ptr(false), TrustedProxies: []string{"10.0.0.0/8"}},
			remote:  clientAddr, header: http.Header{"X-Real-Ip": {"1.2.3.4"}},
			absent:   []string{"X-Real-Ip"},
			wantHost: "myapp.local",
		},
		{
			name:    "real_ip off keeps a trusted proxy's X-Real-IP",
			handler: Handler{Preset: "nginx", RealIP: ptr(false), TrustedProxies: []string{"10.0.0.0/8"}},
			remote:  lbAddr, header: http.Header{"X-Real-Ip": {"198.51.100.9"}},
			want:     http.Header{"X-Real-Ip": {"198.51.100.9"}},
			wantHost: "myapp.local", wantTrusted: true,
		},
		{
			name:    "real_ip off drops a trusted proxy's invalid X-Real-IP",
			handler: Handler{Preset: "nginx", RealIP: ptr(false), TrustedProxies: []string{"10.0.0.0/8"}},
			remote:  lbAddr, header: http.Header{"X-Real-Ip": {"nope"}},
			absent:   []string{"X-Real-Ip"},
			wantHost: "myapp.local", wantTrusted: true,
		},
		{
			name:     "real_ip off without X-Real-IP adds none",
			handler:  Handler{RealIP: ptr(false)},
			remote:   clientAddr,
			absent:   []string{"X-Real-Ip"},
			want:     http.Header{"X-Forwarded-Host": {labHost}},
			wantHost: labHost,
		},
		{
			name:    "host_header hostname strips the port and lower-cases",
			handler: Handler{HostHeader: "hostname"},
			remote:  clientAddr, host: "MyApp.Local:8000",
			want:     http.Header{"X-Forwarded-Host": {"MyApp.Local:8000"}},
			wantHost: "myapp.local",
		},
		{
			name:    "host_header hostname with IPv6 literal and port",
			handler: Handler{HostHeader: "hostname"},
			remote:  clientAddr, host: "[2001:DB8::1]:8443",
			want:     http.Header{"X-Forwarded-Host": {"[2001:DB8::1]:8443"}},
			wantHost: "[2001:db8::1]",
		},
		{
			name:    "host_header hostname with IPv6 literal without port",
			handler: Handler{HostHeader: "hostname"},
			remote:  clientAddr, host: "[::1]",
			wantHost: "[::1]",
		},
		{
			name:    "nginx preset, host without port",
			handler: nginx, remote: clientAddr, host: "MyApp.Local",
			wantHost: "myapp.local",
		},
		{
			name:    "host_header client overrides the nginx preset",
			handler: Handler{Preset: "nginx", HostHeader: "client"},
			remote:  clientAddr, host: "MyApp.Local:8000",
			wantHost: "MyApp.Local:8000",
		},
		{
			name:    "x_forwarded_host on overrides the nginx preset",
			handler: Handler{Preset: "nginx", ForwardedHost: ptr(true)},
			remote:  clientAddr, header: spoofed,
			want:     http.Header{"X-Forwarded-Host": {labHost}},
			wantHost: "myapp.local",
		},
		{
			name:    "x_forwarded_host off omits it without a preset",
			handler: Handler{ForwardedHost: ptr(false), TrustedProxies: []string{"10.0.0.0/8"}},
			remote:  lbAddr, header: fromLB,
			want:     http.Header{"X-Forwarded-Host": nil},
			wantHost: labHost, wantTrusted: true,
		},

		// Forwarded (RFC 7239).
		{
			name:    "forwarded: untrusted client's Forwarded is replaced",
			handler: fwd, remote: clientAddr, header: spoofed,
			want:     http.Header{"Forwarded": {`for=203.0.113.7;proto=http;host="myapp.local:8000"`}},
			absent:   []string{"X-Forwarded-For"},
			wantHost: labHost,
		},
		{
			name:    "forwarded: untrusted over TLS, host without port",
			handler: fwd, remote: clientAddr, host: "myapp.local", tls: true,
			want:     http.Header{"Forwarded": {`for=203.0.113.7;proto=https;host=myapp.local`}},
			wantHost: "myapp.local",
		},
		{
			name:    "forwarded: trusted proxy's Forwarded is extended",
			handler: fwd, remote: lbAddr,
			header:   http.Header{"Forwarded": {"for=198.51.100.9;proto=https"}},
			want:     http.Header{"Forwarded": {`for=198.51.100.9;proto=https, for=10.0.0.5;proto=http;host="myapp.local:8000"`}},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "forwarded: trusted proxy's Forwarded over several lines",
			handler: fwd, remote: lbAddr,
			header:   http.Header{"Forwarded": {"for=198.51.100.9", `for="[2001:db8::17]"`}},
			want:     http.Header{"Forwarded": {`for=198.51.100.9, for="[2001:db8::17]", for=10.0.0.5;proto=http;host="myapp.local:8000"`}},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "forwarded: trusted proxy's malformed Forwarded is replaced",
			handler: fwd, remote: lbAddr,
			header:   http.Header{"Forwarded": {`for="198.51.100.9`}},
			want:     http.Header{"Forwarded": {`for=10.0.0.5;proto=http;host="myapp.local:8000"`}},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "forwarded: trusted IPv6 peer is a quoted bracketed node",
			handler: fwd, remote: "[::1]:1",
			want:     http.Header{"Forwarded": {`for="[::1]";proto=http;host="myapp.local:8000"`}},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "forwarded: untrusted IPv6 peer",
			handler: fwd, remote: "[2001:db8::1]:1", host: "myapp.local",
			header:   http.Header{"Forwarded": {"for=1.2.3.4"}},
			want:     http.Header{"Forwarded": {`for="[2001:db8::1]";proto=http;host=myapp.local`}},
			wantHost: "myapp.local",
		},
		{
			name:    "forwarded: IPv4-mapped peer is written as IPv4",
			handler: fwd, remote: "[::ffff:203.0.113.7]:1", host: "myapp.local",
			want:     http.Header{"Forwarded": {`for=203.0.113.7;proto=http;host=myapp.local`}},
			wantHost: "myapp.local",
		},
		{
			name:    "forwarded: unix socket peer is unknown",
			handler: fwd, remote: "@", host: "myapp.local",
			header:   http.Header{"Forwarded": {"for=1.2.3.4"}},
			want:     http.Header{"Forwarded": {`for=unknown;proto=http;host=myapp.local`}},
			absent:   []string{"X-Real-Ip"},
			wantHost: "myapp.local",
		},
		{
			name:    "no forwarded option: trusted proxy's Forwarded is passed on, folded",
			handler: plain, remote: lbAddr,
			header:   http.Header{"Forwarded": {"for=198.51.100.9", "for=198.51.100.10;proto=https"}},
			want:     http.Header{"Forwarded": {"for=198.51.100.9, for=198.51.100.10;proto=https"}},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "no forwarded option: trusted proxy's malformed Forwarded is dropped",
			handler: plain, remote: lbAddr,
			header:   http.Header{"Forwarded": {"for=a;for=b"}},
			absent:   []string{"Forwarded"},
			wantHost: labHost, wantTrusted: true,
		},
		{
			name:    "no forwarded option: nothing is added",
			handler: plain, remote: clientAddr,
			absent:   []string{"Forwarded"},
			wantHost: labHost,
		},

		// Plain header operations apply after the policy.
		{
			name: "set and remove apply after the policy",
			handler: Handler{Preset: "nginx", Request: &headers.HeaderOps{
				Set: http.Header{
					"X-Forwarded-Proto": {"https"},
					"X-Client":          {"{http.request.remote.host}"},
				},
				Delete: []string{"X-Real-IP", "X-Debug"},
			}},
			remote: clientAddr,
			header: http.Header{"X-Real-Ip": {"1.2.3.4"}, "X-Debug": {"1"}},
			want: http.Header{
				"X-Forwarded-Proto": {"https"},
				"X-Client":          {"203.0.113.7"},
			},
			absent:   []string{"X-Real-Ip", "X-Debug"},
			wantHost: "myapp.local",
		},
		{
			name: "set Host overrides host_header",
			handler: Handler{Preset: "nginx", Request: &headers.HeaderOps{
				Set: http.Header{"Host": {"backend.internal"}},
			}},
			remote:   clientAddr,
			absent:   []string{"Host"},
			wantHost: "backend.internal",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hcfg := tt.handler
			h, _ := provision(t, &hcfg)
			host := tt.host
			if host == "" {
				host = labHost
			}
			req := newRequest(tt.remote, host, tt.tls, tt.header)
			rec := httptest.NewRecorder()
			up, _ := serve(t, h, req, rec, backendResponse)

			checkHeader(t, up.header, tt.want, tt.absent)
			if up.host != tt.wantHost {
				t.Errorf("upstream Host = %q, want %q", up.host, tt.wantHost)
			}
			if up.trusted != tt.wantTrusted {
				t.Errorf("var %s = %v, want %v", caddyhttp.TrustedProxyVarKey, up.trusted, tt.wantTrusted)
			}
			if up.requestID != nil {
				t.Errorf("var request_id = %v without request_id configured", up.requestID)
			}
			if _, ok := up.header["X-Request-Id"]; ok {
				t.Errorf("X-Request-Id sent without request_id configured")
			}
			if rec.Code != http.StatusOK || rec.Body.String() != "hello" {
				t.Errorf("response = %d %q, want 200 \"hello\"", rec.Code, rec.Body.String())
			}
		})
	}
}

// TestServeHTTPOverridesServerTrust checks that the handler's trust decision
// replaces whatever the server put in the vars table.
func TestServeHTTPOverridesServerTrust(t *testing.T) {
	h, _ := provision(t, &Handler{Preset: "nginx"})
	req := newRequest(clientAddr, labHost, false, http.Header{"X-Forwarded-For": {"1.2.3.4"}})
	repl := caddy.NewReplacer()
	req = caddyhttp.PrepareRequest(req, repl, nil, nil)
	caddyhttp.SetVar(req.Context(), caddyhttp.TrustedProxyVarKey, true)
	var trusted any
	var xff []string
	var sawXFF bool
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		trusted = caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey)
		xff, sawXFF = r.Header["X-Forwarded-For"]
		return nil
	})
	if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
		t.Fatal(err)
	}
	if trusted != false {
		t.Errorf("var %s = %v, want false", caddyhttp.TrustedProxyVarKey, trusted)
	}
	if sawXFF {
		t.Errorf("X-Forwarded-For = %q, want it removed", xff)
	}
}

func TestMalformedForwardedWarning(t *testing.T) {
	for _, forwardedOn := range []bool{false, true} {
		h, _ := provision(t, &Handler{TrustedProxies: []string{"10.0.0.0/8"}, Forwarded: forwardedOn})
		core, logs := observer.New(zapcore.WarnLevel)
		h.logger = zap.New(core)

		req := newRequest(lbAddr, labHost, false, http.Header{"Forwarded": {`for="oops`}})
		serve(t, h, req, httptest.NewRecorder(), nil)

		entries := logs.FilterMessage("dropping malformed Forwarded header from trusted proxy").All()
		if len(entries) != 1 {
			t.Fatalf("forwarded=%v: %d warnings logged, want 1: %v", forwardedOn, len(entries), logs.All())
		}
		fields := entries[0].ContextMap()
		if fields["peer"] != "10.0.0.5" || fields["value"] != `for="oops` {
			t.Errorf("forwarded=%v: warning fields = %v", forwardedOn, fields)
		}
		if !strings.Contains(fields["error"].(string), "unterminated quoted-string") {
			t.Errorf("forwarded=%v: warning error = %v", forwardedOn, fields["error"])
		}

		// An untrusted client's malformed header is simply replaced, not logged.
		logs.TakeAll()
		req = newRequest(clientAddr, labHost, false, http.Header{"Forwarded": {`for="oops`}})
		serve(t, h, req, httptest.NewRecorder(), nil)
		if n := logs.Len(); n != 0 {
			t.Errorf("forwarded=%v: %d entries logged for an untrusted client, want 0", forwardedOn, n)
		}
	}
}

func TestServeHTTPRequestID(t *testing.T) {
	long := strings.Repeat("a", 200)
	tests := []struct {
		name     string
		field    string // configured; default X-Request-ID
		remote   string
		incoming []string // nil: not sent
		keep     bool     // the incoming ID is propagated
	}{
		{name: "untrusted without ID", remote: clientAddr},
		{name: "untrusted with a valid ID", remote: clientAddr, incoming: []string{"abc-123"}},
		{name: "trusted with a valid ID", remote: lbAddr, incoming: []string{"abc-123"}, keep: true},
		{name: "trusted with a UUID", remote: lbAddr, incoming: []string{"9f2b1c1e-6a4d-4c5e-9b7a-0c1d2e3f4a5b"}, keep: true},
		{name: "trusted with a 200-byte ID", remote: lbAddr, incoming: []string{long}, keep: true},
		{name: "trusted with a 201-byte ID", remote: lbAddr, incoming: []string{long + "a"}},
		{name: "trusted with a space", remote: lbAddr, incoming: []string{"abc 123"}},
		{name: "trusted with a comma", remote: lbAddr, incoming: []string{"a,b"}},
		{name: "trusted with a quote", remote: lbAddr, incoming: []string{`a"b`}},
		{name: "trusted with a backslash", remote: lbAddr, incoming: []string{`a\b`}},
		{name: "trusted with non-ASCII", remote: lbAddr, incoming: []string{"h\xc3\xa9llo"}},
		{name: "trusted with DEL", remote: lbAddr, incoming: []string{"a\x7f"}},
		{name: "trusted with an empty ID", remote: lbAddr, incoming: []string{""}},
		{name: "trusted without ID", remote: lbAddr},
		{name: "trusted with two IDs: the first counts", remote: lbAddr, incoming: []string{"first", "second"}, keep: true},
		{name: "custom field, trusted", field: "x-correlation-id", remote: lbAddr, incoming: []string{"corr-1"}, keep: true},
		{name: "custom field, untrusted", field: "x-correlation-id", remote: clientAddr, incoming: []string{"corr-1"}},
		{name: "unix socket peer", remote: "@", incoming: []string{"abc-123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			field := tt.field
			if field == "" {
				field = "X-Request-ID"
			}
			canon := http.CanonicalHeaderKey(field)
			h, _ := provision(t, &Handler{TrustedProxies: []string{"10.0.0.0/8"}, RequestID: field, Hide: []string{}})
			if h.RequestID != canon {
				t.Fatalf("RequestID after Provision = %q, want %q", h.RequestID, canon)
			}
			var hdr http.Header
			if tt.incoming != nil {
				hdr = http.Header{canon: tt.incoming}
			}
			rec := httptest.NewRecorder()
			up, repl := serve(t, h, newRequest(tt.remote, labHost, false, hdr), rec, func(w http.ResponseWriter) error {
				// The upstream's own ID never reaches the client.
				w.Header().Set(canon, "upstream-id")
				return backendResponse(w)
			})

			want := tt.incoming
			if !tt.keep {
				uuid := repl.ReplaceAll("{http.request.uuid}", "")
				if !uuidRE.MatchString(uuid) {
					t.Fatalf("{http.request.uuid} = %q, not a UUID", uuid)
				}
				want = []string{uuid}
			} else {
				want = want[:1]
			}
			if got := up.header[canon]; !reflect.DeepEqual(got, want) {
				t.Errorf("upstream %s = %q, want %q", canon, got, want)
			}
			if up.requestID != want[0] {
				t.Errorf("var request_id = %v, want %q", up.requestID, want[0])
			}
			if got := rec.Result().Header[canon]; !reflect.DeepEqual(got, want) {
				t.Errorf("response %s = %q, want %q", canon, got, want)
			}
			// With hide cleared, only the ID wraps the writer: Server stays.
			if got := rec.Result().Header.Get("Server"); got != "gunicorn/21.2.0" {
				t.Errorf("response Server = %q, want it kept", got)
			}
		})
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	h, _ := provision(t, &Handler{RequestID: "X-Request-ID"})
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		up, _ := serve(t, h, newRequest(clientAddr, labHost, false, nil), httptest.NewRecorder(), nil)
		id := up.header.Get("X-Request-Id")
		if !uuidRE.MatchString(id) {
			t.Fatalf("request %d: ID %q is not a UUID", i, id)
		}
		if seen[id] {
			t.Fatalf("request %d: ID %q repeated", i, id)
		}
		seen[id] = true
	}
}

// informRecorder records informational (1xx) responses, which
// httptest.ResponseRecorder would take as the final one.
type informRecorder struct {
	*httptest.ResponseRecorder
	informational []informational
}

type informational struct {
	code   int
	header http.Header
}

func (r *informRecorder) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		r.informational = append(r.informational, informational{code, r.Header().Clone()})
		return
	}
	r.ResponseRecorder.WriteHeader(code)
}

// readFromRecorder is a ResponseRecorder with io.ReaderFrom, like the
// net/http response writer.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	readFrom bool
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.readFrom = true
	return io.Copy(r.ResponseRecorder, src)
}

func TestResponseFilter(t *testing.T) {
	upstreamHeaders := func(w http.ResponseWriter) {
		w.Header().Set("Server", "gunicorn/21.2.0")
		w.Header().Set("X-Powered-By", "Express")
		w.Header().Set("X-Debug", "1")
		w.Header().Set("Content-Type", "text/plain")
	}
	// writeBody sends the upstream's headers and body with an implicit 200.
	writeBody := func(body string) respondFunc {
		return func(w http.ResponseWriter) error {
			upstreamHeaders(w)
			_, err := w.Write([]byte(body))
			return err
		}
	}
	tests := []struct {
		name       string
		handler    Handler
		respond    respondFunc
		rec        func() http.ResponseWriter
		wantCode   int
		wantBody   string
		want       http.Header
		absent     []string
		wantDirect bool // the next handler gets the recorder itself
		check      func(t *testing.T, w http.ResponseWriter)
	}{
		{
			name:     "implicit Write without WriteHeader",
			handler:  Handler{Preset: "nginx"},
			respond:  writeBody("hello"),
			wantCode: 200, wantBody: "hello",
			want:   http.Header{"X-Debug": {"1"}, "Content-Type": {"text/plain"}},
			absent: []string{"Server", "X-Powered-By"},
		},
		{
			name:    "explicit WriteHeader",
			handler: Handler{Preset: "nginx"},
			respond: func(w http.ResponseWriter) error {
				upstreamHeaders(w)
				w.WriteHeader(http.StatusNotFound)
				_, err := w.Write([]byte("nope"))
				return err
			},
			wantCode: 404, wantBody: "nope",
			want:   http.Header{"X-Debug": {"1"}},
			absent: []string{"Server", "X-Powered-By"},
		},
		{
			name:    "ReadFrom without WriteHeader",
			handler: Handler{Preset: "nginx"},
			rec:     func() http.ResponseWriter { return &readFromRecorder{ResponseRecorder: httptest.NewRecorder()} },
			respond: func(w http.ResponseWriter) error {
				upstreamHeaders(w)
				rf, ok := w.(io.ReaderFrom)
				if !ok {
					return errors.New("response writer is not an io.ReaderFrom")
				}
				_, err := rf.ReadFrom(strings.NewReader("streamed"))
				return err
			},
			wantCode: 200, wantBody: "streamed",
			want:   http.Header{"X-Debug": {"1"}},
			absent: []string{"Server", "X-Powered-By"},
			check: func(t *testing.T, w http.ResponseWriter) {
				if !w.(*readFromRecorder).readFrom {
					t.Error("underlying ReadFrom was not used")
				}
			},
		},
		{
			name:    "io.Copy into the writer",
			handler: Handler{Preset: "nginx"},
			respond: func(w http.ResponseWriter) error {
				upstreamHeaders(w)
				_, err := io.Copy(w, strings.NewReader("copied"))
				return err
			},
			wantCode: 200, wantBody: "copied",
			absent: []string{"Server", "X-Powered-By"},
		},
		{
			name:    "1xx then 200",
			handler: Handler{Preset: "nginx", RequestID: "X-Request-ID", TrustedProxies: []string{"10.0.0.0/8"}},
			rec:     func() http.ResponseWriter { return &informRecorder{ResponseRecorder: httptest.NewRecorder()} },
			respond: func(w http.ResponseWriter) error {
				w.Header().Set("Link", "</style.css>; rel=preload")
				w.Header().Set("Server", "early")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Del("Link")
				upstreamHeaders(w)
				w.WriteHeader(http.StatusOK)
				_, err := w.Write([]byte("final"))
				return err
			},
			wantCode: 200, wantBody: "final",
			want:   http.Header{"X-Debug": {"1"}, "X-Request-Id": {"lb-id-1"}},
			absent: []string{"Server", "X-Powered-By", "Link"},
			check: func(t *testing.T, w http.ResponseWriter) {
				inf := w.(*informRecorder).informational
				if len(inf) != 1 || inf[0].code != http.StatusEarlyHints {
					t.Fatalf("informational responses = %+v, want one 103", inf)
				}
				want := http.Header{"Link": {"</style.css>; rel=preload"}, "X-Request-Id": {"lb-id-1"}}
				if !reflect.DeepEqual(inf[0].header, want) {
					t.Errorf("103 header = %v, want %v", inf[0].header, want)
				}
			},
		},
		{
			name:    "101 Switching Protocols is final",
			handler: Handler{Preset: "nginx"},
			respond: func(w http.ResponseWriter) error {
				upstreamHeaders(w)
				w.Header().Set("Upgrade", "websocket")
				w.WriteHeader(http.StatusSwitchingProtocols)
				return nil
			},
			wantCode: 101,
			want:     http.Header{"Upgrade": {"websocket"}},
			absent:   []string{"Server", "X-Powered-By"},
		},
		{
			name:    "flush before WriteHeader",
			handler: Handler{Preset: "nginx"},
			respond: func(w http.ResponseWriter) error {
				upstreamHeaders(w)
				if err := http.NewResponseController(w).Flush(); err != nil {
					return err
				}
				_, err := w.Write([]byte("flushed"))
				return err
			},
			wantCode: 200, wantBody: "flushed",
			want:   http.Header{"X-Debug": {"1"}},
			absent: []string{"Server", "X-Powered-By"},
			check: func(t *testing.T, w http.ResponseWriter) {
				if !w.(*httptest.ResponseRecorder).Flushed {
					t.Error("recorder was not flushed")
				}
			},
		},
		{
			name:    "headers set after WriteHeader are not the filter's business",
			handler: Handler{Preset: "nginx"},
			respond: func(w http.ResponseWriter) error {
				upstreamHeaders(w)
				w.WriteHeader(http.StatusAccepted)
				w.WriteHeader(http.StatusTeapot) // superfluous, passed on and ignored
				return nil
			},
			wantCode: 202,
			absent:   []string{"Server", "X-Powered-By"},
		},
		{
			name:     "hide list replaces the preset's, names canonicalized",
			handler:  Handler{Preset: "nginx", Hide: []string{"x-debug"}},
			respond:  writeBody("x"),
			wantCode: 200, wantBody: "x",
			want:   http.Header{"Server": {"gunicorn/21.2.0"}, "X-Powered-By": {"Express"}},
			absent: []string{"X-Debug"},
		},
		{
			name:     "nothing to hide or echo: the writer is not wrapped",
			handler:  Handler{},
			respond:  writeBody("x"),
			wantCode: 200, wantBody: "x",
			want:       http.Header{"Server": {"gunicorn/21.2.0"}, "X-Powered-By": {"Express"}},
			wantDirect: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hcfg := tt.handler
			h, _ := provision(t, &hcfg)
			var w http.ResponseWriter = httptest.NewRecorder()
			if tt.rec != nil {
				w = tt.rec()
			}
			var hdr http.Header
			if h.RequestID != "" {
				hdr = http.Header{"X-Request-Id": {"lb-id-1"}}
			}
			up, _ := serve(t, h, newRequest(lbAddr, labHost, false, hdr), w, tt.respond)

			var rec *httptest.ResponseRecorder
			switch w := w.(type) {
			case *httptest.ResponseRecorder:
				rec = w
			case *informRecorder:
				rec = w.ResponseRecorder
			case *readFromRecorder:
				rec = w.ResponseRecorder
			}
			res := rec.Result()
			if res.StatusCode != tt.wantCode {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.wantCode)
			}
			if body := rec.Body.String(); body != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			checkHeader(t, res.Header, tt.want, tt.absent)
			if direct := up.writer == w; direct != tt.wantDirect {
				t.Errorf("next handler got the recorder itself: %v, want %v", direct, tt.wantDirect)
			}
			if tt.check != nil {
				tt.check(t, w)
			}
		})
	}
}

func TestProvisionErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler Handler
		wantErr string
	}{
		{"unknown preset", Handler{Preset: "apache"}, `unknown preset "apache" (known presets: nginx)`},
		{"preset is case-sensitive", Handler{Preset: "NGINX"}, `unknown preset "NGINX"`},
		{"bad CIDR", Handler{TrustedProxies: []string{"10.0.0.0/33"}}, `trusted_proxies: "10.0.0.0/33" is not a CIDR range`},
		{"bad CIDR address", Handler{TrustedProxies: []string{"10.0.0/8"}}, `trusted_proxies: "10.0.0/8" is not a CIDR range`},
		{"bad IP", Handler{TrustedProxies: []string{"10.0.0.0/8", "300.1.1.1"}}, `trusted_proxies: "300.1.1.1" is neither an IP address, a CIDR range nor private_ranges`},
		{"host name as proxy", Handler{TrustedProxies: []string{"lb.internal"}}, `trusted_proxies: "lb.internal" is neither`},
		{"bad host_header", Handler{HostHeader: "server"}, `host_header: unknown value "server" (want "client" or "hostname")`},
		{"host_header is case-sensitive", Handler{HostHeader: "Hostname"}, `host_header: unknown value "Hostname"`},
		{"bad request header regexp", Handler{Request: &headers.HeaderOps{Replace: map[string][]headers.Replacement{
			"X-A": {{SearchRegexp: "("}},
		}}}, "request header operations: replacement 0 for header field 'X-A'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			h := tt.handler
			err := h.Provision(ctx)
			if err == nil {
				t.Fatalf("Provision succeeded, want error %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Provision error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler Handler
		wantErr string
	}{
		{"hide with a space", Handler{Hide: []string{"Server", "X Bad"}}, `invalid header field name "X Bad"`},
		{"hide with a colon", Handler{Hide: []string{"X-A:"}}, `invalid header field name "X-A:"`},
		{"empty hide name", Handler{Hide: []string{""}}, ``},
		{"request_id with a colon", Handler{RequestID: "X-Request-ID:"}, `invalid header field name "X-Request-ID:"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.handler.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil (empty names are skipped)", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestProvisionResolvesOptions(t *testing.T) {
	tests := []struct {
		name                      string
		handler                   Handler
		hostName, realIP, fwdHost bool
		hide                      []string
	}{
		{"no preset", Handler{}, false, true, true, []string{}},
		{"nginx preset", Handler{Preset: "nginx"}, true, true, false, []string{"Server", "X-Powered-By"}},
		{"nginx preset, everything overridden", Handler{
			Preset: "nginx", HostHeader: "client", RealIP: ptr(false), ForwardedHost: ptr(true), Hide: []string{"x-secret"},
		}, false, false, true, []string{"X-Secret"}},
		{"no preset, everything set", Handler{
			HostHeader: "hostname", RealIP: ptr(true), ForwardedHost: ptr(false), Hide: []string{"server"},
		}, true, true, false, []string{"Server"}},
		{"empty hide list clears the preset's", Handler{Preset: "nginx", Hide: []string{}}, true, true, false, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hcfg := tt.handler
			h, _ := provision(t, &hcfg)
			if h.hostName != tt.hostName || h.realIP != tt.realIP || h.fwdHost != tt.fwdHost {
				t.Errorf("hostName, realIP, fwdHost = %v, %v, %v; want %v, %v, %v",
					h.hostName, h.realIP, h.fwdHost, tt.hostName, tt.realIP, tt.fwdHost)
			}
			if !reflect.DeepEqual(h.hide, tt.hide) {
				t.Errorf("hide = %q, want %q", h.hide, tt.hide)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []netip.Prefix
	}{
		{
			name: "addresses and ranges",
			in:   []string{"10.1.2.3/8", "192.0.2.1", "::ffff:192.0.2.2", "2001:db8::1", "fe80::1%eth0", "2001:db8::/32"},
			want: []netip.Prefix{
				netip.MustParsePrefix("10.0.0.0/8"),
				netip.MustParsePrefix("192.0.2.1/32"),
				netip.MustParsePrefix("192.0.2.2/32"),
				netip.MustParsePrefix("2001:db8::1/128"),
				netip.MustParsePrefix("fe80::1/128"),
				netip.MustParsePrefix("2001:db8::/32"),
			},
		},
		{
			// Caddy's list holds "127.0.0.1/8" and "::1" (no prefix length);
			// both used to make Provision panic.
			name: "private_ranges",
			in:   []string{"private_ranges"},
			want: []netip.Prefix{
				netip.MustParsePrefix("192.168.0.0/16"),
				netip.MustParsePrefix("172.16.0.0/12"),
				netip.MustParsePrefix("10.0.0.0/8"),
				netip.MustParsePrefix("127.0.0.0/8"),
				netip.MustParsePrefix("fd00::/8"),
				netip.MustParsePrefix("::1/128"),
			},
		},
		{name: "nil", in: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTrustedProxies(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseTrustedProxies(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestPrivateRangesTrust: private_ranges trusts loopback and private peers,
// and nothing else.
func TestPrivateRangesTrust(t *testing.T) {
	priv, err := parseTrustedProxies([]string{"private_ranges"})
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{trusted: priv}
	for ip, want := range map[string]bool{
		"127.0.0.1": true, "10.9.8.7": true, "172.16.0.1": true, "192.168.1.1": true,
		"::1": true, "fd00::1": true, "203.0.113.7": false, "2001:db8::1": false,
	} {
		if got := h.isTrusted(netip.MustParseAddr(ip)); got != want {
			t.Errorf("private_ranges trusts %s: %v, want %v", ip, got, want)
		}
	}
}

func TestPeerAddr(t *testing.T) {
	tests := []struct {
		remote string
		want   string // "" means not an IP
	}{
		{"203.0.113.7:51234", "203.0.113.7"},
		{"[2001:db8::1]:1234", "2001:db8::1"},
		{"[::1]:1234", "::1"},
		{"[::ffff:10.1.2.3]:1234", "10.1.2.3"},
		{"[fe80::1%eth0]:1234", "fe80::1"},
		{"203.0.113.7", "203.0.113.7"},
		{"@", ""},
		{"", ""},
		{"localhost:80", ""},
		{"[::1]", ""},
	}
	for _, tt := range tests {
		ip, ok := peerAddr(tt.remote)
		if got := ""; ok {
			got = ip.String()
			if got != tt.want {
				t.Errorf("peerAddr(%q) = %s, want %q", tt.remote, got, tt.want)
			}
		} else if tt.want != "" {
			t.Errorf("peerAddr(%q) failed, want %s", tt.remote, tt.want)
		}
	}
}

func TestHostnameOnly(t *testing.T) {
	tests := map[string]string{
		"myapp.local":         "myapp.local",
		"MyApp.Local:8000":    "myapp.local",
		"EXAMPLE.com:":        "example.com",
		"[2001:DB8::1]:8443":  "[2001:db8::1]",
		"[::1]":               "[::1]",
		"192.0.2.1:80":        "192.0.2.1",
		"":                    "",
		"weird:host:name:123": "weird:host:name:123",
	}
	for in, want := range tests {
		if got := hostnameOnly(in); got != want {
			t.Errorf("hostnameOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

// counterValue reads frontdesk_header_policy_untrusted_headers_replaced_total{header}.
func counterValue(t *testing.T, reg *prometheus.Registry, header string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "frontdesk_header_policy_untrusted_headers_replaced_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "header" && l.GetValue() == header {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestMetrics(t *testing.T) {
	h, ctx := provision(t, &Handler{Preset: "nginx", TrustedProxies: []string{"10.0.0.0/8"}})
	reg := ctx.GetMetricsRegistry()
	names := []string{"X-Real-Ip", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded"}
	before := map[string]float64{}
	for _, n := range names {
		before[n] = counterValue(t, reg, n)
	}

	all := http.Header{
		"X-Real-Ip": {"1.2.3.4"}, "X-Forwarded-For": {"1.2.3.4"}, "X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host": {"a"}, "Forwarded": {"for=1.2.3.4"},
	}
	// A trusted proxy's headers are not counted.
	serve(t, h, newRequest(lbAddr, labHost, false, all.Clone()), httptest.NewRecorder(), nil)
	// An untrusted client's are, once per request and header.
	serve(t, h, newRequest(clientAddr, labHost, false, http.Header{
		"X-Real-Ip": {"1.2.3.4"}, "X-Forwarded-For": {"1.2.3.4", "5.6.7.8"}, "Forwarded": {"for=x"},
	}), httptest.NewRecorder(), nil)
	serve(t, h, newRequest(clientAddr, labHost, false, http.Header{"X-Forwarded-For": {"1.2.3.4"}}), httptest.NewRecorder(), nil)
	// A plain request is not counted.
	serve(t, h, newRequest(clientAddr, labHost, false, nil), httptest.NewRecorder(), nil)

	want := map[string]float64{"X-Real-Ip": 1, "X-Forwarded-For": 2, "X-Forwarded-Proto": 0, "X-Forwarded-Host": 0, "Forwarded": 1}
	for _, n := range names {
		if got := counterValue(t, reg, n) - before[n]; got != want[n] {
			t.Errorf("counter{header=%q} grew by %v, want %v", n, got, want[n])
		}
	}

	// A second config (a reload) registers the same collectors again.
	_, ctx2 := provision(t, &Handler{})
	if got := counterValue(t, ctx2.GetMetricsRegistry(), "X-Forwarded-For"); got < 2 {
		t.Errorf("after reload, counter{header=X-Forwarded-For} = %v, want the count carried over", got)
	}
}

func TestModuleAndJSON(t *testing.T) {
	mi, err := caddy.GetModule("http.handlers.header_policy")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mi.New().(*Handler); !ok {
		t.Fatalf("module New() = %T, want *Handler", mi.New())
	}

	const js = `{
		"preset": "nginx",
		"trusted_proxies": ["private_ranges", "192.0.2.0/24"],
		"host_header": "client",
		"real_ip": false,
		"x_forwarded_host": true,
		"forwarded": true,
		"request_id": "X-Request-ID",
		"hide": ["Server"],
		"request": {"set": {"X-Env": ["lab"]}, "delete": ["X-Debug"]}
	}`
	var got Handler
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	want := Handler{
		Preset:         "nginx",
		TrustedProxies: []string{"private_ranges", "192.0.2.0/24"},
		HostHeader:     "client",
		RealIP:         ptr(false),
		ForwardedHost:  ptr(true),
		Forwarded:      true,
		RequestID:      "X-Request-ID",
		Hide:           []string{"Server"},
		Request:        &headers.HeaderOps{Set: http.Header{"X-Env": {"lab"}}, Delete: []string{"X-Debug"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("unmarshalled %+v, want %+v", got, want)
	}
	out, err := json.Marshal(Handler{Preset: "nginx"})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"preset":"nginx"}` {
		t.Errorf("marshalled %s, want {\"preset\":\"nginx\"}", out)
	}
}

// FuzzServeHTTP feeds arbitrary peers and forwarding headers through the
// handler: it must never panic, an untrusted peer's own address always wins,
// and no client X-Forwarded-For survives.
func FuzzServeHTTP(f *testing.F) {
	h, _ := provision(f, &Handler{TrustedProxies: []string{"10.0.0.0/8"}, Forwarded: true, RequestID: "X-Request-ID"})
	trustedNet := netip.MustParsePrefix("10.0.0.0/8")

	// remote, host, X-Real-IP, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, Forwarded, X-Request-ID
	f.Add(clientAddr, labHost, "", "", "", "", "", "")
	f.Add(clientAddr, labHost, "1.2.3.4", "1.2.3.4, 10.0.0.1", "https", "evil.example", "for=1.2.3.4", "abc")
	f.Add(lbAddr, labHost, "198.51.100.9", "198.51.100.9", "https", "orig.example", "for=198.51.100.9;proto=https", "abc-123")
	f.Add(lbAddr, "myapp.local", "nope", "", "gopher", "", `for="oops`, "a b")
	f.Add("[::1]:1234", "[::1]:80", "::1", "::1", "http", "", `for="[::1]"`, "x")
	f.Add("[::ffff:10.1.2.3]:1234", labHost, "198.51.100.9", "198.51.100.9", "http", "h", "for=a;for=b", "id")
	f.Add("[::ffff:203.0.113.7]:1234", labHost, "10.0.0.1", "10.0.0.1", "https", "h", "for=10.0.0.1", "id")
	f.Add("[fe80::1%eth0]:1", labHost, "", "", "", "", "", "")
	f.Add("@", labHost, "1.2.3.4", "1.2.3.4", "https", "h", "for=1.2.3.4", "id")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("10.0.0.1", "MyApp.Local:8000", "10.0.0.2", "", "", "", ", ,", "\x7f")

	f.Fuzz(func(t *testing.T, remote, host, xri, xff, xfp, xfh, fwd, rid string) {
		if !httpguts.ValidHostHeader(host) {
			host = "myapp.local" // net/http rejects the request before any handler
		}
		hdr := http.Header{}
		for name, v := range map[string]string{
			"X-Real-Ip": xri, "X-Forwarded-For": xff, "X-Forwarded-Proto": xfp,
			"X-Forwarded-Host": xfh, "Forwarded": fwd, "X-Request-Id": rid,
		} {
			if v != "" {
				hdr[name] = []string{v}
			}
		}
		rec := httptest.NewRecorder()
		up, repl := serve(t, h, newRequest(remote, host, false, hdr), rec, backendResponse)
		out := up.header

		peer, peerOK := peerAddr(remote)
		trusted := peerOK && trustedNet.Contains(peer)
		if up.trusted != trusted {
			t.Fatalf("var %s = %v, want %v", caddyhttp.TrustedProxyVarKey, up.trusted, trusted)
		}

		// X-Real-IP.
		switch {
		case !trusted && peerOK:
			if got := out["X-Real-Ip"]; len(got) != 1 || got[0] != peer.String() {
				t.Fatalf("untrusted peer %q: X-Real-IP = %q, want [%s]", remote, got, peer)
			}
		case !trusted:
			if got, ok := out["X-Real-Ip"]; ok {
				t.Fatalf("peer %q without IP: X-Real-IP = %q, want none", remote, got)
			}
		default:
			got := out["X-Real-Ip"]
			if len(got) != 1 || (got[0] != peer.String() && got[0] != xri) || !validIP(got[0]) {
				t.Fatalf("trusted peer %q: X-Real-IP = %q", remote, got)
			}
		}

		// X-Forwarded-For.
		if got, ok := out["X-Forwarded-For"]; !trusted && ok {
			t.Fatalf("untrusted peer %q: X-Forwarded-For %q survived", remote, got)
		} else if trusted && xff != "" && !reflect.DeepEqual(got, []string{xff}) {
			t.Fatalf("trusted peer %q: X-Forwarded-For = %q, want [%q]", remote, got, xff)
		}

		// X-Forwarded-Proto and -Host.
		if got := out["X-Forwarded-Proto"]; len(got) != 1 || (got[0] != "http" && got[0] != "https") || (!trusted && got[0] != "http") {
			t.Fatalf("peer %q: X-Forwarded-Proto = %q", remote, got)
		}
		wantXFH := host
		if trusted && xfh != "" {
			wantXFH = xfh
		}
		if got := out["X-Forwarded-Host"]; !reflect.DeepEqual(got, []string{wantXFH}) {
			t.Fatalf("peer %q: X-Forwarded-Host = %q, want [%q]", remote, got, wantXFH)
		}

		// Forwarded: always well-formed, ending with this hop.
		fv := out["Forwarded"]
		if len(fv) != 1 {
			t.Fatalf("Forwarded = %q, want one value", fv)
		}
		els, err := ParseForwarded(fv[0])
		if err != nil {
			t.Fatalf("outgoing Forwarded %q does not parse: %v", fv[0], err)
		}
		node := "unknown"
		if peerOK {
			node = forwardedNode(peer)
		}
		last := el("for", node, "proto", "http", "host", host)
		if len(els) == 0 || !reflect.DeepEqual(els[len(els)-1], last) {
			t.Fatalf("Forwarded %q: last element is not %v", fv[0], last)
		}
		if !trusted && len(els) != 1 {
			t.Fatalf("untrusted peer %q: Forwarded %q keeps client elements", remote, fv[0])
		}

		// Request ID: propagated only from a trusted peer, echoed to the client.
		id := up.header.Get("X-Request-Id")
		if trusted && validRequestID(rid) {
			if id != rid {
				t.Fatalf("trusted peer's request ID %q became %q", rid, id)
			}
		} else if id != repl.ReplaceAll("{http.request.uuid}", "") || !uuidRE.MatchString(id) {
			t.Fatalf("request ID %q is not this request's UUID", id)
		}
		if got := rec.Result().Header.Get("X-Request-Id"); got != id {
			t.Fatalf("response X-Request-ID = %q, want %q", got, id)
		}
	})
}

// A Unix-socket peer has no IP: the server's trusted_proxies_unix decision
// stands, and a trusted socket's chain and X-Real-IP pass.
func TestServeHTTPUnixSocketTrust(t *testing.T) {
	for _, serverTrusts := range []bool{false, true} {
		h, _ := provision(t, &Handler{Preset: "nginx"})
		req := newRequest("@", labHost, false, http.Header{"X-Forwarded-For": {"1.2.3.4"}, "X-Real-Ip": {"1.2.3.4"}})
		req = caddyhttp.PrepareRequest(req, caddy.NewReplacer(), nil, nil)
		caddyhttp.SetVar(req.Context(), caddyhttp.TrustedProxyVarKey, serverTrusts)
		var got http.Header
		var trusted any
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			got = r.Header.Clone()
			trusted = caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey)
			return nil
		})
		if err := h.ServeHTTP(httptest.NewRecorder(), req, next); err != nil {
			t.Fatal(err)
		}
		if trusted != serverTrusts {
			t.Errorf("server trusts socket %v: var = %v", serverTrusts, trusted)
		}
		wantXFF, wantRealIP := "", ""
		if serverTrusts {
			wantXFF, wantRealIP = "1.2.3.4", "1.2.3.4"
		}
		if g := got.Get("X-Forwarded-For"); g != wantXFF {
			t.Errorf("server trusts socket %v: X-Forwarded-For = %q, want %q", serverTrusts, g, wantXFF)
		}
		if g := got.Get("X-Real-Ip"); g != wantRealIP {
			t.Errorf("server trusts socket %v: X-Real-Ip = %q, want %q", serverTrusts, g, wantRealIP)
		}
	}
}

// TestPlainHostnameAgreesWithSplit: the allocation-free path of hostnameOnly
// answers only for Hosts where it gives what the general one gives.
func TestPlainHostnameAgreesWithSplit(t *testing.T) {
	for _, in := range []string{
		"myapp.local", "myapp.local:8000", "myapp.local:", ":8000", ":", "", "192.0.2.1:80",
		"MyApp.local", "a:b:c", "[::1]:80", "[::1]", "a]:80", "[a:80", "ex\u00e4mple.com:80", "ex\u00c4mple.com",
		"host:port:", "x_y-z.local:65535",
	} {
		want := splitHostname(in)
		if got, ok := plainHostname(in); ok && got != want {
			t.Errorf("plainHostname(%q) = %q, want %q", in, got, want)
		}
		if got := hostnameOnly(in); got != want {
			t.Errorf("hostnameOnly(%q) = %q, want %q", in, got, want)
		}
	}
}
