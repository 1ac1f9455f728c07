package proxycache

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// sendOn is send for a request that came in on the listener local.
func sendOn(t *testing.T, h *Handler, o caddyhttp.Handler, local net.Addr, host, target string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = host
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, local)
	r = r.WithContext(ctx)
	caddyhttp.NewTestReplacer(r)
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, o); err != nil {
		t.Fatalf("ServeHTTP: %v", err)
	}
	return w
}

// TestSitesOnTwoPortsDoNotShare: two handlers in one zone (as two sites
// with the default storage are), for one host name on two ports: the second
// site's request is a miss answered by its own origin, never a hit with the
// first site's body. One site's port is the same whatever Host port the
// client writes.
func TestSitesOnTwoPortsDoNotShare(t *testing.T) {
	zone := `{"storage":{"module":"memory","zone":"two-sites"}}`
	siteA, siteB := newHandler(t, zone), newHandler(t, zone)
	originA := respond(200, "A", "Cache-Control", "max-age=60")
	originB := respond(200, "B", "Cache-Control", "max-age=60")
	portA := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8400}
	portB := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8401}

	expectStatus(t, sendOn(t, siteA, originA, portA, "localhost:8400", "/p"), labelMiss)
	w := sendOn(t, siteB, originB, portB, "localhost:8401", "/p")
	expectStatus(t, w, labelMiss)
	if w.Body.String() != "B" || originB.n.Load() != 1 {
		t.Fatalf("site B got %q (origin B asked %d times)", w.Body.String(), originB.n.Load())
	}
	// A Host naming the other site's port changes nothing: the listener decides.
	if w := sendOn(t, siteA, originA, portA, "LOCALHOST:8401", "/p"); w.Body.String() != "A" || xcs(w) != labelHit {
		t.Errorf("site A with Host localhost:8401: %s %q, want a HIT with A", xcs(w), w.Body.String())
	}
	if w := sendOn(t, siteB, originB, portB, "localhost", "/p"); w.Body.String() != "B" || xcs(w) != labelHit {
		t.Errorf("site B with Host localhost: %s %q, want a HIT with B", xcs(w), w.Body.String())
	}
	// HTTP/3 comes in over UDP on the same port number: the same entries.
	udpA := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8400}
	if w := sendOn(t, siteA, originA, udpA, "localhost", "/p"); w.Body.String() != "A" || xcs(w) != labelHit {
		t.Errorf("site A over UDP: %s %q, want a HIT with A", xcs(w), w.Body.String())
	}
}

// TestDefaultKey pins the default key's form, which purge-by-key uses.
func TestDefaultKey(t *testing.T) {
	h := newHandler(t, "")
	for _, c := range []struct {
		method, url string
		local       net.Addr
		want        string
	}{
		{"GET", "http://Example.COM:8080/a?b=1", &net.TCPAddr{Port: 8080}, "GEThttpexample.com:8080/a?b=1"},
		{"HEAD", "http://example.com/a?b=1", &net.TCPAddr{Port: 80}, "GEThttpexample.com:80/a?b=1"},
		{"GET", "http://[::1]:8443/x", &net.UDPAddr{Port: 443}, "GEThttp[::1]:443/x"},
		{"GET", "http://example.com/x", &net.UnixAddr{Name: "/run/fd.sock", Net: "unix"}, "GEThttpexample.com:/run/fd.sock/x"},
		{"GET", "http://example.com/x", nil, "GEThttpexample.com/x"}, // not from a server
	} {
		r := reqFor(c.method, c.url)
		if c.local != nil {
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, c.local))
		}
		if got := h.cacheKey(r); got != c.want {
			t.Errorf("%s %s on %v: key %q, want %q", c.method, c.url, c.local, got, c.want)
		}
	}
}
