package headerpolicy

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestProxyFieldsFromUntrustedClients: the X-Forwarded-* fields the policy
// does not set and the URL overrides of rewriting front ends never reach the
// upstream from an untrusted client; a trusted proxy's pass.
func TestProxyFieldsFromUntrustedClients(t *testing.T) {
	h, _ := provision(t, &Handler{Preset: "nginx", TrustedProxies: []string{"10.0.0.0/8"}})
	sent := http.Header{
		"X-Forwarded-Port": {"1"}, "X-Forwarded-Prefix": {"/evil"}, "X-Forwarded-Server": {"evil"},
		"X-Forwarded-Scheme": {"https"}, "X-Forwarded-Ssl": {"on"}, "X-Original-Url": {"/admin"},
		"X-Rewrite-Url": {"/admin"}, "X-Forwardedfor": {"kept: not the X-Forwarded- family"}, "X-Custom": {"kept"},
	}
	for _, c := range []struct {
		remote string
		kept   []string
	}{
		{"203.0.113.7:1", []string{"X-Forwardedfor", "X-Custom"}},
		{"10.0.0.2:1", []string{"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Scheme",
			"X-Forwarded-Ssl", "X-Original-Url", "X-Rewrite-Url", "X-Forwardedfor", "X-Custom"}},
	} {
		up, _ := serve(t, h, newRequest(c.remote, "myapp.local", false, sent.Clone()), httptest.NewRecorder(), nil)
		for name, v := range sent {
			_, got := up.header[name]
			want := false
			for _, k := range c.kept {
				want = want || k == name
			}
			if got != want {
				t.Errorf("peer %s: %s (%q) reached the upstream: %v, want %v", c.remote, name, v, got, want)
			}
		}
	}
}
