package healthgate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"
)

// Observe chooses which failures of live proxied requests take an
// upstream out of rotation, like HAProxy's `observe layer4` with
// `on-error mark-down` and nginx's max_fails. The upstream leaves the
// rotation of every handler of its pool at once, and only the active
// checker brings it back, after rise passing checks.
type Observe struct {
	// Off turns live observation off: only the active checker takes
	// upstreams out.
	Off bool `json:"off,omitempty"`

	// Errors lists what counts as an error: "connect" (refused, dial
	// timeout, unreachable), "reset" (the connection was reset or closed
	// before a response), "timeout" (no response in time after the
	// connection was made, e.g. transport response_header_timeout) and
	// "5xx" (a 500, 502, 503 or 504 response). Default: connect, reset.
	Errors []string `json:"errors,omitempty"`

	// Limit is how many consecutive errors take the upstream out; a
	// request that succeeds resets the count. Default: 1.
	Limit int `json:"limit,omitempty"`
}

// liveKind is one class of failure of a live request, as a bit.
type liveKind uint8

const (
	liveConnect liveKind = 1 << iota
	liveReset
	liveTimeout
	live5xx
)

// liveKinds are the names of the classes, as configured and as the
// live_errors_total metric's kind label.
var liveKinds = []struct {
	name string
	kind liveKind
}{{"connect", liveConnect}, {"reset", liveReset}, {"timeout", liveTimeout}, {"5xx", live5xx}}

// Defaults of Observe.
const (
	defaultObserved   = liveConnect | liveReset
	defaultErrorLimit = 1
	maxErrorLimit     = 1000
)

// fastRetryInterval becomes reverse_proxy's lb_try_interval when the user
// set lb_try_duration but no interval: a failed upstream is out of the
// list at once, so the retry need not wait Caddy's 250 ms default.
const fastRetryInterval = 5 * time.Millisecond

func (k liveKind) String() string {
	for _, lk := range liveKinds {
		if lk.kind == k {
			return lk.name
		}
	}
	return "unknown"
}

// parseLiveKind reads one configured class name.
func parseLiveKind(name string) (liveKind, error) {
	for _, lk := range liveKinds {
		if lk.name == name {
			return lk.kind, nil
		}
	}
	return 0, fmt.Errorf("observe: unknown error class %q (known: connect, reset, timeout, 5xx)", name)
}

// validate checks the JSON form; the Caddyfile parser calls it too.
func (o *Observe) validate() error {
	_, _, err := o.compile()
	return err
}

// compile returns the observed classes (0 when off) and the limit.
func (o *Observe) compile() (liveKind, int64, error) {
	if o == nil {
		return defaultObserved, defaultErrorLimit, nil
	}
	if o.Off {
		if len(o.Errors) > 0 || o.Limit != 0 {
			return 0, 0, fmt.Errorf("observe: off takes no error classes or limit")
		}
		return 0, 0, nil
	}
	kinds := liveKind(0)
	for _, name := range o.Errors {
		k, err := parseLiveKind(name)
		if err != nil {
			return 0, 0, err
		}
		kinds |= k
	}
	if kinds == 0 {
		kinds = defaultObserved
	}
	if o.Limit < 0 || o.Limit > maxErrorLimit {
		return 0, 0, fmt.Errorf("observe: limit must be a whole number from 1 to %d, got %d", maxErrorLimit, o.Limit)
	}
	limit := int64(o.Limit)
	if limit == 0 {
		limit = defaultErrorLimit
	}
	return kinds, limit, nil
}

// trafficWatch sees the outcome of every round trip of one reverse_proxy
// handler and feeds the errors to the upstreams' states.
type trafficWatch struct {
	members map[string]*upstreamState // by dial address
	kinds   liveKind                  // observed classes
	limit   int64
}

// newTrafficWatch returns nil when observation is off.
func newTrafficWatch(o *Observe, members []member) *trafficWatch {
	kinds, limit, _ := o.compile() // validated in Source.compile
	if kinds == 0 {
		return nil
	}
	w := &trafficWatch{members: make(map[string]*upstreamState, len(members)), kinds: kinds, limit: limit}
	for _, m := range members {
		w.members[m.st.dial] = m.st
	}
	return w
}

// wrapTransport wraps the parent reverse_proxy's http transport so that it
// counts every round trip in its upstream's traffic figures and reports it
// to s.watch (reverse_proxy tells an upstream source nothing about failed
// requests, and its transport is the one place that sees each one with the
// upstream it was for), and fails requests for the named sentinel with the
// pool's state (see noneserving.go). With no transport configured, it
// loads the default http transport itself. Only the http transport is
// wrapped; otherwise the port-range sentinel stays and traffic is not
// counted.
func (s *Source) wrapTransport(ctx caddy.Context, h *reverseproxy.Handler) error {
	if h == nil {
		return nil
	}
	if h.Transport == nil {
		mod, err := ctx.LoadModuleByID("http.reverse_proxy.transport.http", nil)
		if err != nil {
			return fmt.Errorf("loading the default http transport: %v", err)
		}
		h.Transport = mod.(http.RoundTripper)
	}
	ht, ok := h.Transport.(*reverseproxy.HTTPTransport)
	if !ok {
		if s.watch != nil {
			s.logger.Warn("live traffic is not observed: only reverse_proxy's http transport can be",
				zapPool(s.Pool), zap.String("transport", fmt.Sprintf("%T", h.Transport)))
		}
		return nil
	}
	wt := &watchedTransport{HTTPTransport: ht, watch: s.watch, members: make(map[string]*upstreamState, len(s.members))}
	for _, m := range s.members {
		wt.members[m.st.dial] = m.st
	}
	if s.watch != nil {
		defaultRetries(h, len(s.Upstreams))
	}
	if s.responder == nil && namedSentinelSound(h) {
		s.sentinel = namedSentinelDial(s.Pool)
		wt.none = s
	}
	h.Transport = wt
	if lb := h.LoadBalancing; s.watch != nil && lb != nil && lb.TryDuration > 0 && lb.TryInterval == 0 {
		lb.TryInterval = caddy.Duration(fastRetryInterval)
	}
	return nil
}

// defaultRetries gives a reverse_proxy that retries nothing (neither
// lb_try_duration nor lb_retries) one retry per other upstream of the pool,
// at once, while live traffic is observed — as nginx's default
// proxy_next_upstream error timeout does. A request in flight on an upstream
// that dies is then answered by another instead of a 502: the failure takes
// the upstream out of the pool before the retry picks again. reverse_proxy's
// own rule still decides what is retried (after a dial error any request,
// otherwise only GET).
func defaultRetries(h *reverseproxy.Handler, upstreams int) {
	if h.LoadBalancing == nil {
		h.LoadBalancing = new(reverseproxy.LoadBalancing)
	}
	if lb := h.LoadBalancing; lb.TryDuration == 0 && lb.Retries == 0 {
		lb.Retries = max(1, upstreams-1)
	}
}

// watchedTransport is reverse_proxy's http transport, unchanged (every
// method and option is its own), that counts and reports each round
// trip's outcome and fails the named sentinel's requests.
type watchedTransport struct {
	*reverseproxy.HTTPTransport
	watch   *trafficWatch             // nil when live traffic is not observed
	none    *Source                   // the pool whose named sentinel this fails, or nil
	members map[string]*upstreamState // the pool's upstreams, by dial address
}

// RoundTrip implements http.RoundTripper.
func (t *watchedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.none != nil {
		if di, ok := reverseproxy.GetDialInfo(req.Context()); ok && di.Upstream != nil && di.Upstream.Dial == t.none.sentinel {
			return nil, t.none.noneServingErr(req)
		}
	}
	st := t.member(req)
	var start time.Time
	if st != nil {
		start = st.traffic.Begin()
	}
	res, err := t.HTTPTransport.RoundTrip(req)
	if st != nil {
		st.countRoundTrip(start, res, err)
	}
	if t.watch != nil {
		t.watch.saw(req, res, err)
	}
	return res, err
}

// member is the upstream a request is for, or nil (the 503 responder).
func (t *watchedTransport) member(req *http.Request) *upstreamState {
	if di, ok := reverseproxy.GetDialInfo(req.Context()); ok && di.Upstream != nil {
		return t.members[di.Upstream.Dial]
	}
	return nil
}

// saw records one round trip's outcome against its upstream.
func (w *trafficWatch) saw(req *http.Request, res *http.Response, err error) {
	kind, cause := classifyLive(req, res, err)
	if kind == 0 && w.limit == 1 {
		return // success: no streak to reset
	}
	di, ok := reverseproxy.GetDialInfo(req.Context())
	if !ok || di.Upstream == nil {
		return
	}
	st := w.members[di.Upstream.Dial]
	if st == nil {
		return // the 503 responder, not an upstream
	}
	if kind == 0 {
		if st.liveStreak.Load() != 0 {
			st.liveStreak.Store(0)
		}
		return
	}
	st.liveError(kind, cause, w.kinds&kind != 0, w.limit)
}

// classifyLive names what went wrong with a round trip; kind 0 means
// nothing the upstream is to blame for (success, or the client left).
func classifyLive(req *http.Request, res *http.Response, err error) (liveKind, string) {
	if err == nil {
		switch res.StatusCode {
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return live5xx, fmt.Sprintf("status %d", res.StatusCode)
		}
		return 0, ""
	}
	if req.Context().Err() != nil {
		return 0, "" // the client went away or the server is stopping
	}
	var dialErr reverseproxy.DialError
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
	switch {
	case errors.As(err, &dialErr):
		// DialError does not unwrap: its text is all there is.
		msg := dialErr.Error()
		switch {
		case strings.Contains(msg, syscall.ECONNREFUSED.Error()):
			return liveConnect, "connection refused"
		case timeout || strings.Contains(msg, "i/o timeout") || strings.Contains(msg, context.DeadlineExceeded.Error()):
			return liveConnect, "dial timeout"
		}
		return liveConnect, "connect: " + shortError(err)
	case timeout:
		return liveTimeout, "timeout awaiting response"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return liveReset, "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return liveReset, "connection closed by upstream"
	}
	return 0, ""
}

// shortError is the last part of a wrapped network error ("dial tcp
// 127.0.0.1:9: connect: no route to host" → "no route to host").
func shortError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// liveError counts a failed live request; an observed one that completes
// the streak takes the upstream out of rotation.
func (s *upstreamState) liveError(kind liveKind, cause string, observed bool, limit int64) {
	if s.stopped.Load() {
		return // a request of an old config, after the upstream left it
	}
	metrics.live.WithLabelValues(s.pool, s.dial, kind.String()).Inc()
	s.mu.Lock()
	s.liveErrors++
	s.lastLiveErr = cause
	s.mu.Unlock()
	if !observed || s.liveStreak.Add(1) < limit {
		return
	}
	s.liveStreak.Store(0)
	s.downByTraffic(kind, cause)
}

// downByTraffic takes a healthy upstream out because live requests
// failed. It needs rise passing checks to come back, counted from now.
func (s *upstreamState) downByTraffic(kind liveKind, cause string) {
	s.mu.Lock()
	if !s.healthy {
		s.mu.Unlock()
		return // already out: one transition, one event
	}
	s.healthy, s.passes, s.downBy = false, 0, downByTraffic
	s.mu.Unlock()
	s.updateServing()
	s.wentDown(downByTraffic, kind.String(), cause)
}

// Interface guards
var (
	_ http.RoundTripper                                = (*watchedTransport)(nil)
	_ reverseproxy.TLSTransport                        = (*watchedTransport)(nil)
	_ reverseproxy.ProxyProtocolTransport              = (*watchedTransport)(nil)
	_ reverseproxy.RequestHeaderOpsTransport           = (*watchedTransport)(nil)
	_ reverseproxy.HealthCheckSchemeOverriderTransport = (*watchedTransport)(nil)
	_ caddy.CleanerUpper                               = (*watchedTransport)(nil)
)
