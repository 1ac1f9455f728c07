package healthgate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// TestSentinelChoice: the named sentinel (and, with retries, the retry
// matcher) where it ends the request at once; the port-range one where it
// could not.
func TestSentinelChoice(t *testing.T) {
	lb := func(try time.Duration, retries int) *reverseproxy.LoadBalancing {
		return &reverseproxy.LoadBalancing{TryDuration: caddy.Duration(try), Retries: retries}
	}
	cases := []struct {
		name      string
		h         *reverseproxy.Handler
		named     bool
		retryHook bool
	}{
		{"no retries (healthgate's default retries)", &reverseproxy.Handler{}, true, true},
		{"lb_try_duration", &reverseproxy.Handler{LoadBalancing: lb(5*time.Second, 0)}, true, true},
		{"lb_retries", &reverseproxy.Handler{LoadBalancing: lb(0, 2)}, true, true},
		{"user's retry_match", &reverseproxy.Handler{LoadBalancing: &reverseproxy.LoadBalancing{
			TryDuration: caddy.Duration(time.Second), RetryMatchRaw: caddyhttp.RawMatcherSets{{"method": []byte(`["POST"]`)}}}}, false, false},
		{"passive fail_duration", &reverseproxy.Handler{HealthChecks: &reverseproxy.HealthChecks{
			Passive: &reverseproxy.PassiveHealthChecks{FailDuration: caddy.Duration(time.Second)}}}, false, false},
		{"other transport", &reverseproxy.Handler{Transport: roundTripFunc(nil)}, false, false},
	}
	for _, c := range cases {
		if c.h.Transport == nil {
			c.h.Transport = &reverseproxy.HTTPTransport{}
		}
		s := provision(t, hourly(t.Name(), 1, Member{Dial: "127.0.0.1:9"}))
		if err := s.wrapTransport(caddy.Context{}, c.h); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := sentinelDial(s.Pool)
		if c.named {
			want = namedSentinelDial(s.Pool)
		}
		if d := dials(t, s); len(d) != 1 || d[0] != want {
			t.Errorf("%s: sentinel %v, want %s", c.name, d, want)
		}
		hooked := c.h.LoadBalancing != nil && len(c.h.LoadBalancing.RetryMatch) == 1
		if hooked != c.retryHook {
			t.Errorf("%s: retry matcher installed %v, want %v", c.name, hooked, c.retryHook)
		}
		s.Cleanup()
	}
}

// TestDefaultRetries: a reverse_proxy that retries nothing gets one retry
// per other upstream while live traffic is observed, none with observe off,
// and the user's own lb_try_duration or lb_retries are left alone.
func TestDefaultRetries(t *testing.T) {
	three := []Member{{Dial: "127.0.0.1:9"}, {Dial: "127.0.0.1:10"}, {Dial: "127.0.0.1:11"}}
	for _, c := range []struct {
		name        string
		lb          *reverseproxy.LoadBalancing
		observe     *Observe
		wantRetries int
		wantTry     time.Duration
	}{
		{"nothing set", nil, nil, 2, 0},
		{"observe off", nil, &Observe{Off: true}, 0, 0},
		{"lb_retries 5", &reverseproxy.LoadBalancing{Retries: 5}, nil, 5, 0},
		{"lb_try_duration 5s", &reverseproxy.LoadBalancing{TryDuration: caddy.Duration(5 * time.Second)}, nil, 0, 5 * time.Second},
	} {
		h := &reverseproxy.Handler{Transport: &reverseproxy.HTTPTransport{}, LoadBalancing: c.lb}
		src := hourly(t.Name()+c.name, 1, three...)
		src.Observe = c.observe
		s := provision(t, src)
		if err := s.wrapTransport(caddy.Context{}, h); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var retries int
		var try time.Duration
		if h.LoadBalancing != nil {
			retries, try = h.LoadBalancing.Retries, time.Duration(h.LoadBalancing.TryDuration)
		}
		if retries != c.wantRetries || try != c.wantTry {
			t.Errorf("%s: lb_retries %d, lb_try_duration %v; want %d, %v", c.name, retries, try, c.wantRetries, c.wantTry)
		}
		s.Cleanup()
	}
}

// TestNamedSentinelFails: the wrapped transport fails the named sentinel's
// request without a network round trip, with the pool's state as the
// error, and the retry matcher then refuses a retry; other GETs are
// retried and other methods are not, as reverse_proxy's own rule says.
func TestNamedSentinelFails(t *testing.T) {
	h := &reverseproxy.Handler{Transport: &reverseproxy.HTTPTransport{}, LoadBalancing: &reverseproxy.LoadBalancing{TryDuration: caddy.Duration(time.Second)}}
	s := provision(t, hourly(t.Name(), 2, Member{Dial: "127.0.0.1:9"}))
	defer s.Cleanup()
	if err := s.wrapTransport(caddy.Context{}, h); err != nil {
		t.Fatal(err)
	}
	match := h.LoadBalancing.RetryMatch[0][0].(caddyhttp.RequestMatcher)

	newReq := func(method string) *http.Request {
		r := httptest.NewRequest(method, "http://example.test/", nil)
		ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{})
		return r.WithContext(ctx)
	}
	if !match.Match(newReq(http.MethodGet)) || match.Match(newReq(http.MethodPost)) {
		t.Error("before the sentinel: want GET retried and POST not")
	}

	r := newReq(http.MethodGet)
	ups, _ := s.GetUpstreams(r)
	di := reverseproxy.DialInfo{Upstream: ups[0], Address: ups[0].Dial}
	rt := r.WithContext(context.WithValue(r.Context(), dialInfoKey, di))
	res, err := h.Transport.RoundTrip(rt)
	var ne noneServingError
	if res != nil || !errors.As(err, &ne) {
		t.Fatalf("round trip to the sentinel: %v, %v; want a noneServingError", res, err)
	}
	// The first check may or may not have failed by now (nothing listens).
	want := "no healthy upstream in pool " + s.Pool + " (127.0.0.1:9 gated: rise 0/2"
	if msg := err.Error(); msg != want+")" && msg != want+", connection refused)" {
		t.Errorf("error %q, want %q)", msg, want)
	}
	if match.Match(r) {
		t.Error("the retry matcher allows a retry after the pool had nothing serving")
	}
}

// dialInfoKey is reverse_proxy's context key for the DialInfo of a round
// trip (unexported there; GetDialInfo reads it).
const dialInfoKey caddy.CtxKey = "reverse_proxy.dial_info"

func TestDescribeStatus(t *testing.T) {
	for _, c := range []struct {
		st   Status
		want string
	}{
		{Status{Upstream: "a:1", State: stateGated, Passes: 1}, "a:1 gated: rise 1/2"},
		{Status{Upstream: "a:1", State: stateGated, LastError: "connection refused"}, "a:1 gated: rise 0/2, connection refused"},
		{Status{Upstream: "a:1", State: stateDown, LastError: "status 503"}, "a:1 down: status 503"},
		{Status{Upstream: "a:1", State: stateDown, DownBy: downByTraffic, LastLiveError: "connection refused"}, "a:1 down: traffic: connection refused"},
		{Status{Upstream: "a:1", State: stateDrained}, "a:1 drained"},
		{Status{Upstream: "a:1", State: stateUp, LastError: "old"}, "a:1 up"},
	} {
		if got := describeStatus(c.st, 2); got != c.want {
			t.Errorf("describeStatus(%+v) = %q, want %q", c.st, got, c.want)
		}
	}
	if !strings.HasSuffix(namedSentinelDial("a b"), ".invalid:1") || strings.Contains(namedSentinelDial("a b"), " ") {
		t.Errorf("named sentinel %q", namedSentinelDial("a b"))
	}
}
