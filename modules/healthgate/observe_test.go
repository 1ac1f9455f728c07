package healthgate

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func TestUnmarshalObserve(t *testing.T) {
	cases := []struct {
		line string
		want Observe
	}{
		{"observe off", Observe{Off: true}},
		{"observe connect", Observe{Errors: []string{"connect"}}},
		{"observe connect reset timeout 5xx limit 3", Observe{Errors: []string{"connect", "reset", "timeout", "5xx"}, Limit: 3}},
		{"observe limit 2", Observe{Limit: 2}},
	}
	for _, c := range cases {
		var s Source
		d := caddyfile.NewTestDispenser("healthgate {\n to 127.0.0.1:8081\n " + c.line + "\n}")
		if err := s.UnmarshalCaddyfile(d); err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if got := fmt.Sprintf("%+v", *s.Observe); got != fmt.Sprintf("%+v", c.want) {
			t.Errorf("%s: got %s, want %+v", c.line, got, c.want)
		}
	}
	errs := []struct{ line, want string }{
		{"observe", "observe: want off, or error classes"},
		{"observe layer4", `unknown error class "layer4"`},
		{"observe off connect", "off takes nothing after it"},
		{"observe limit", "limit wants one count"},
		{"observe limit 0", "from 1 to 1000"},
		{"observe limit 3 connect", "limit wants one count, last on the line"},
	}
	for _, c := range errs {
		var s Source
		d := caddyfile.NewTestDispenser("healthgate {\n to 127.0.0.1:8081\n " + c.line + "\n}")
		err := s.UnmarshalCaddyfile(d)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Testfile:3") {
			t.Errorf("%s: got %v, want %q at Testfile:3", c.line, err, c.want)
		}
	}
}

func TestObserveJSONValidation(t *testing.T) {
	for _, o := range []*Observe{{Off: true, Limit: 2}, {Errors: []string{"layer7"}}, {Limit: -1}, {Limit: 1001}} {
		if err := o.validate(); err == nil {
			t.Errorf("%+v accepted", *o)
		}
	}
	kinds, limit, err := (*Observe)(nil).compile()
	if err != nil || kinds != liveConnect|liveReset || limit != 1 {
		t.Errorf("default: %v %d %v, want connect|reset, limit 1", kinds, limit, err)
	}
	if kinds, _, _ := (&Observe{Off: true}).compile(); kinds != 0 {
		t.Errorf("off: %v", kinds)
	}
}

// TestClassifyLive: each way a round trip can fail, in the shape net/http
// and reverse_proxy's transport report it.
func TestClassifyLive(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	opErr := func(op string, errno syscall.Errno) error {
		return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, errno)}
	}
	cases := []struct {
		name   string
		req    *http.Request
		status int
		err    error
		kind   liveKind
		cause  string
	}{
		{"200", req, 200, nil, 0, ""},
		{"404", req, 404, nil, 0, ""},
		{"501 is the request's fault", req, 501, nil, 0, ""},
		{"502", req, 502, nil, live5xx, "status 502"},
		{"refused", req, 0, reverseproxy.NewDialError(opErr("connect", syscall.ECONNREFUSED)), liveConnect, "connection refused"},
		{"dial timeout", req, 0, reverseproxy.NewDialError(fmt.Errorf("dial tcp: %w", context.DeadlineExceeded)), liveConnect, "dial timeout"},
		{"unreachable", req, 0, reverseproxy.NewDialError(opErr("connect", syscall.EHOSTUNREACH)), liveConnect, "connect: no route to host"},
		{"reset", req, 0, fmt.Errorf("readLoopPeekFailLocked: %w", opErr("read", syscall.ECONNRESET)), liveReset, "connection reset"},
		{"closed", req, 0, fmt.Errorf("net/http: %w", io.EOF), liveReset, "connection closed by upstream"},
		{"response timeout", req, 0, fmt.Errorf("awaiting headers: %w", context.DeadlineExceeded), liveTimeout, "timeout awaiting response"},
		{"client went away", req.WithContext(gone), 0, fmt.Errorf("x: %w", io.EOF), 0, ""},
		{"other", req, 0, fmt.Errorf("malformed HTTP response"), 0, ""},
	}
	for _, c := range cases {
		var res *http.Response
		if c.err == nil {
			res = &http.Response{StatusCode: c.status}
		}
		kind, cause := classifyLive(c.req, res, c.err)
		if kind != c.kind || cause != c.cause {
			t.Errorf("%s: got %v %q, want %v %q", c.name, kind, cause, c.kind, c.cause)
		}
	}
}

// TestLiveErrorsTakeOutUntilRise: observed live errors take a healthy
// upstream out once the limit is reached, once (one transition however
// many requests fail), unobserved ones are only counted, and only rise
// passing checks, counted from the mark-down, bring it back.
func TestLiveErrorsTakeOutUntilRise(t *testing.T) {
	b := newBackend(t, true)
	s := provision(t, hourly(t.Name(), 2, Member{Dial: b.addr()}))
	defer s.Cleanup()
	st := s.members[0].st
	waitFor(t, "up", st.serving.Load)

	st.liveError(liveTimeout, "timeout awaiting response", false, 2)
	st.liveError(liveTimeout, "timeout awaiting response", false, 2)
	if !st.serving.Load() {
		t.Fatal("taken out by errors that are not observed")
	}
	st.liveError(liveConnect, "connection refused", true, 2)
	if !st.serving.Load() {
		t.Fatal("taken out before the limit (2)")
	}
	st.liveError(liveConnect, "connection refused", true, 2)
	if st.serving.Load() {
		t.Fatal("still serving after 2 consecutive observed errors")
	}
	for range 5 { // requests in flight when it went down
		st.liveError(liveConnect, "connection refused", true, 1)
	}
	got := st.status()
	if got.State != stateDown || got.DownBy != downByTraffic || got.LiveErrors != 9 ||
		got.LastLiveError != "connection refused" || got.cause() != "traffic: connection refused" {
		t.Errorf("after mark-down: %+v", got)
	}
	// Only rise (2) passing checks after the mark-down bring it back.
	cfg := st.config()
	st.record(cfg, result{ok: true})
	if st.serving.Load() {
		t.Fatal("back after 1 pass, want rise=2")
	}
	st.record(cfg, result{ok: true})
	if !st.serving.Load() || st.status().DownBy != "" {
		t.Fatalf("not back after rise passes: %+v", st.status())
	}
}

// roundTripFunc is a transport that is not reverse_proxy's http one.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestWatchTrafficWrapsHTTPTransport: healthgate wraps the parent's http
// transport (keeping it: every method is the transport's own), makes the
// retry after a failed attempt wait 5 ms when lb_try_duration is set
// without lb_try_interval, keeps an interval the user wrote, and leaves
// other transports alone; with `observe off` it still wraps (for the named
// sentinel) but observes nothing and leaves the interval alone.
func TestWatchTrafficWrapsHTTPTransport(t *testing.T) {
	b := newBackend(t, true)
	handler := func(tryInterval time.Duration, tr http.RoundTripper) *reverseproxy.Handler {
		return &reverseproxy.Handler{Transport: tr, LoadBalancing: &reverseproxy.LoadBalancing{
			TryDuration: caddy.Duration(5 * time.Second), TryInterval: caddy.Duration(tryInterval)}}
	}
	cases := []struct {
		name        string
		observe     *Observe
		h           *reverseproxy.Handler
		wrapped     bool
		tryInterval time.Duration
	}{
		{"default", nil, handler(0, &reverseproxy.HTTPTransport{}), true, fastRetryInterval},
		{"user's lb_try_interval", nil, handler(50*time.Millisecond, &reverseproxy.HTTPTransport{}), true, 50 * time.Millisecond},
		{"other transport", nil, handler(0, roundTripFunc(nil)), false, 0},
		{"observe off", &Observe{Off: true}, handler(0, &reverseproxy.HTTPTransport{}), true, 0},
	}
	for _, c := range cases {
		src := hourly(t.Name(), 1, Member{Dial: b.addr()})
		src.Observe = c.observe
		s := provision(t, src)
		inner := c.h.Transport
		if err := s.wrapTransport(caddy.Context{}, c.h); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		w, wrapped := c.h.Transport.(*watchedTransport)
		if wrapped != c.wrapped || wrapped && (w.HTTPTransport != inner || (w.watch == nil) != (c.observe != nil)) {
			t.Errorf("%s: transport %T, wrapped=%v want %v", c.name, c.h.Transport, wrapped, c.wrapped)
		}
		if got := time.Duration(c.h.LoadBalancing.TryInterval); got != c.tryInterval {
			t.Errorf("%s: lb_try_interval %s, want %s", c.name, got, c.tryInterval)
		}
		s.Cleanup()
	}
}
