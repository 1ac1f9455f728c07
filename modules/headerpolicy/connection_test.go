package headerpolicy

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// proxied is header_policy in front of Caddy's own reverse_proxy, in a Caddy
// config loaded in this process, with a backend that records what it gets.
type proxied struct {
	addr   string
	mu     sync.Mutex
	header http.Header
}

// newProxied loads a config whose only route is the header_policy handler
// given as JSON, then reverse_proxy to the recording backend.
func newProxied(t *testing.T, policyJSON string) *proxied {
	t.Helper()
	p := &proxied{}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.header = r.Header.Clone()
		p.mu.Unlock()
	}))
	t.Cleanup(backend.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	ln.Close()
	cfg := `{"admin":{"disabled":true},"logging":{"logs":{"default":{"level":"ERROR"}}},"apps":{"http":{"servers":{"s":{
		"listen":["` + p.addr + `"],"automatic_https":{"disable":true},
		"routes":[{"handle":[` + policyJSON + `,
			{"handler":"reverse_proxy","upstreams":[{"dial":"` + strings.TrimPrefix(backend.URL, "http://") + `"}]}]}]}}}}}`
	if err := caddy.Load([]byte(cfg), true); err != nil {
		t.Fatalf("loading config: %v", err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	return p
}

// do sends a GET with the given header lines to the proxy and returns the
// header the backend received.
func (p *proxied) do(t *testing.T, hdr http.Header) http.Header {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "myapp.local:8000"
	req.Header = hdr
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.header
}

// TestConnectionCannotRemovePolicyFields: whatever a client nominates in
// Connection, the backend behind reverse_proxy receives every field the
// policy promises, with the policy's value, and never one it omits.
func TestConnectionCannotRemovePolicyFields(t *testing.T) {
	const (
		nginx   = `{"handler":"header_policy","preset":"nginx"}`
		full    = `{"handler":"header_policy","preset":"nginx","forwarded":true,"request_id":"X-Request-ID","request":{"set":{"X-Env":["lab"]},"add":{"X-Tag":["policy"]}}}`
		trusted = `{"handler":"header_policy","preset":"nginx","trusted_proxies":["127.0.0.1"]}`
		plain   = `{"handler":"header_policy"}`
	)
	cases := []struct {
		name   string
		policy string
		conn   []string // Connection lines
		extra  http.Header
		want   map[string]string // "" = absent, "?" = a fresh request ID
	}{
		{name: "X-Real-IP", policy: nginx, conn: []string{"X-Real-IP"},
			want: map[string]string{"X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": ""}},
		{name: "lower case and spoofed value", policy: nginx, conn: []string{"x-real-ip"}, extra: http.Header{"X-Real-Ip": {"6.6.6.6"}},
			want: map[string]string{"X-Real-Ip": "127.0.0.1"}},
		{name: "X-Forwarded-Host brought back", policy: nginx, conn: []string{"X-Forwarded-Host"}, extra: http.Header{"X-Forwarded-Host": {"evil.example"}},
			want: map[string]string{"X-Forwarded-Host": "", "X-Real-Ip": "127.0.0.1"}},
		{name: "every forwarding field, two lines", policy: nginx, conn: []string{"X-Forwarded-For, x-forwarded-proto", " X-REAL-IP ,Forwarded,Host"},
			extra: http.Header{"Forwarded": {"for=6.6.6.6"}},
			want:  map[string]string{"X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "Forwarded": ""}},
		{name: "forwarded and request_id options, set and add", policy: full, conn: []string{"X-Real-IP, Forwarded, X-Request-ID", "x-env,X-TAG"},
			extra: http.Header{"X-Tag": {"client"}},
			want: map[string]string{"X-Real-Ip": "127.0.0.1", "Forwarded": `for=127.0.0.1;proto=http;host="myapp.local:8000"`,
				"X-Env": "lab", "X-Tag": "policy", "X-Request-Id": "?"}},
		{name: "trusted proxy: its nominated copy dropped, its chain kept", policy: trusted, conn: []string{"X-Real-IP"},
			extra: http.Header{"X-Real-Ip": {"198.51.100.9"}, "X-Forwarded-For": {"198.51.100.9"}},
			want:  map[string]string{"X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "198.51.100.9, 127.0.0.1"}},
		{name: "no preset: X-Forwarded-Host kept", policy: plain, conn: []string{"X-Forwarded-Host"},
			want: map[string]string{"X-Forwarded-Host": "myapp.local:8000", "X-Real-Ip": "127.0.0.1"}},
		{name: "other nominations still honoured", policy: nginx, conn: []string{"X-Real-IP, X-Secret"}, extra: http.Header{"X-Secret": {"s"}},
			want: map[string]string{"X-Real-Ip": "127.0.0.1", "X-Secret": ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProxied(t, c.policy)
			hdr := c.extra.Clone()
			if hdr == nil {
				hdr = http.Header{}
			}
			hdr["Connection"] = c.conn
			got := p.do(t, hdr)
			for name, want := range c.want {
				v, ok := got[name]
				switch {
				case want == "" && ok:
					t.Errorf("%s reached the backend: %q", name, v)
				case want == "?" && (len(v) != 1 || !uuidRE.MatchString(v[0])):
					t.Errorf("%s = %q, want one fresh ID", name, v)
				case want != "" && want != "?" && (len(v) != 1 || v[0] != want):
					t.Errorf("%s = %q, want [%q]", name, v, want)
				}
			}
		})
	}
}

// TestClaimNominatedKeepsOtherTokens: only the owned fields' nominations go;
// keep-alive and Upgrade stay, so websockets still upgrade.
func TestClaimNominatedKeepsOtherTokens(t *testing.T) {
	h, _ := provision(t, &Handler{Preset: "nginx", RequestID: "X-Request-ID"})
	cases := []struct {
		in, want []string
	}{
		{[]string{"Upgrade"}, []string{"Upgrade"}},
		{[]string{"keep-alive, X-Real-IP"}, []string{"keep-alive"}},
		{[]string{"X-Real-IP", "Upgrade"}, []string{"Upgrade"}},
		{[]string{"upgrade, x-request-id, , X-Other"}, []string{"upgrade, X-Other"}},
		{[]string{"X-Real-IP,Forwarded"}, nil},
		{[]string{"X-Real-IP\t, X_Real_IP"}, []string{"X_Real_IP"}},
		{[]string{", ,"}, []string{", ,"}}, // nothing owned: left as sent
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Connection"] = append([]string(nil), c.in...)
		h.claimNominated(r)
		if got := r.Header["Connection"]; strings.Join(got, "|") != strings.Join(c.want, "|") || (c.want == nil) != (got == nil) {
			t.Errorf("Connection %q became %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzClaimNominated: after the policy, no Connection token names a field it
// owns, and every other non-empty token is still there, in order.
func FuzzClaimNominated(f *testing.F) {
	h, _ := provision(f, &Handler{Preset: "nginx", Forwarded: true, RequestID: "X-Request-ID"})
	for _, s := range []string{"X-Real-IP", "keep-alive, x-real-ip", "Upgrade", " , X-FORWARDED-for\t,Forwarded", "X-Request-Id,,Host", "x_real_ip", "X-Real-I\xffP"} {
		f.Add(s, "Upgrade")
	}
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Connection"] = []string{line1, line2}
		var others []string
		for _, line := range []string{line1, line2} {
			for tok := range strings.SplitSeq(line, ",") {
				if tok = trimOWS(tok); tok != "" {
					if _, ok := ownedName(h.owned, tok); !ok {
						others = append(others, tok)
					}
				}
			}
		}
		h.claimNominated(r)
		var got []string
		for _, line := range r.Header["Connection"] {
			for tok := range strings.SplitSeq(line, ",") {
				if tok = trimOWS(tok); tok != "" {
					// reverse_proxy deletes http.CanonicalHeaderKey(tok).
					for _, f := range h.owned {
						if http.CanonicalHeaderKey(tok) == f {
							t.Fatalf("Connection %q still nominates %s", r.Header["Connection"], f)
						}
					}
					got = append(got, tok)
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(others, ",") {
			t.Fatalf("kept %q, want %q", got, others)
		}
	})
}
