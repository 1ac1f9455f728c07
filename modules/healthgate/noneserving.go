package healthgate

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"
)

// When no upstream of a pool is serving, the request must end at once with
// 502 and an error that says why. GetUpstreams cannot fail the request
// itself (an error makes reverse_proxy fall back to static upstreams, zero
// upstreams make a retryable 503), so it hands reverse_proxy one sentinel
// upstream, in one of two forms:
//
//   - named (the default where possible): a valid address that the pool's
//     wrapped transport (see observe.go) recognises and fails, without any
//     network traffic, with a noneServingError naming the pool and every
//     upstream's state. reverse_proxy retries a failed GET when
//     lb_try_duration or lb_retries is set, so the pool installs a retry
//     matcher that refuses the retry after that error and otherwise keeps
//     reverse_proxy's rule (retry GET only);
//   - a port range, which reverse_proxy refuses to dial ("dial address must
//     represent precisely one socket"), ending its loop before any retry.
//     Used when the named form cannot be sound: a transport other than
//     http, a retry_match of the user's (reverse_proxy ORs matcher sets and
//     loads the user's after the upstream source), or passive health with a
//     fail_duration (its strikes would mark the sentinel unavailable, and
//     the 503 that follows is retried).

// noneServingVar is the request variable the transport sets when it fails
// a request on the named sentinel; the retry matcher reads it.
const noneServingVar = "healthgate.none_serving"

// noneServingError is how a request ends when no upstream of its pool is
// serving: reverse_proxy answers 502 and Caddy's error log line for the
// request is its text.
type noneServingError struct{ msg string }

func (e noneServingError) Error() string { return e.msg }

// sentinelHost is the pool name reduced to characters safe in a host name.
func sentinelHost(pool string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '-'
	}, pool)
	return "no-healthy-upstream-in-pool-" + clean
}

// sentinelDial is the port-range sentinel, which reverse_proxy refuses to
// dial.
func sentinelDial(pool string) string {
	return sentinelHost(pool) + ":0-1"
}

// namedSentinelDial is the named sentinel: one socket, in the reserved
// .invalid domain (RFC 2606), never dialed (the wrapped transport fails
// it first).
func namedSentinelDial(pool string) string {
	return sentinelHost(pool) + ".invalid:1"
}

// namedSentinelSound reports whether the named sentinel ends a request at
// once under h's settings, given that h's transport is wrapped; when it
// does and h retries, it installs the retry matcher. See above.
func namedSentinelSound(h *reverseproxy.Handler) bool {
	if hc := h.HealthChecks; hc != nil && hc.Passive != nil && hc.Passive.FailDuration > 0 {
		return false
	}
	lb := h.LoadBalancing
	if lb == nil || lb.TryDuration == 0 && lb.Retries == 0 {
		return true // reverse_proxy does not retry at all
	}
	if len(lb.RetryMatchRaw) > 0 || len(lb.RetryMatch) > 0 {
		return false
	}
	lb.RetryMatch = caddyhttp.MatcherSets{{retryUnlessNoneServing{}}}
	return true
}

// retryUnlessNoneServing is the retry matcher installed with the named
// sentinel: reverse_proxy's own rule without a retry_match (retry GET
// only), except after the pool had nothing serving, where a retry would
// only spin until lb_try_duration ends. reverse_proxy consults it only for
// errors after a connection was made; dial errors are retried regardless.
type retryUnlessNoneServing struct{}

// Match implements caddyhttp.RequestMatcher.
func (retryUnlessNoneServing) Match(r *http.Request) bool {
	return r.Method == http.MethodGet && caddyhttp.GetVar(r.Context(), noneServingVar) == nil
}

// noneServingErr is the error of a request that met the named sentinel.
func (s *Source) noneServingErr(req *http.Request) error {
	caddyhttp.SetVar(req.Context(), noneServingVar, true)
	return noneServingError{"no healthy upstream in pool " + s.Pool + " (" + strings.Join(s.describeMembers(), ", ") + ")"}
}

// describeMembers says, for each upstream, its address, its state and why
// it is not serving: "127.0.0.1:9061 gated: rise 1/2",
// "127.0.0.1:9062 down: connection refused".
func (s *Source) describeMembers() []string {
	out := make([]string, 0, len(s.members))
	for _, m := range s.members {
		out = append(out, describeStatus(m.st.status(), s.cfg.rise))
	}
	return out
}

// describeStatus is one upstream of describeMembers.
func describeStatus(st Status, rise int) string {
	var detail []string
	if st.State == stateGated {
		detail = append(detail, "rise "+strconv.Itoa(st.Passes)+"/"+strconv.Itoa(rise))
	}
	if c := st.cause(); c != "" && st.State != stateUp {
		detail = append(detail, c)
	}
	if len(detail) == 0 {
		return st.Upstream + " " + st.State
	}
	return st.Upstream + " " + st.State + ": " + strings.Join(detail, ", ")
}

// logNoneServing logs, at most once a second per pool, that nothing is
// serving, naming every upstream with its state and last error.
func (s *Source) logNoneServing() {
	now := time.Now().UnixNano()
	last := s.lastLog.Load()
	if now-last < int64(time.Second) || !s.lastLog.CompareAndSwap(last, now) {
		return
	}
	msg := "no healthy upstream: answering 502"
	if s.responder != nil {
		msg = "no healthy upstream: answering 503"
	}
	s.logger.Error(msg,
		zap.String("pool", s.Pool),
		zap.Strings("upstreams", s.describeMembers()))
}

// Interface guard
var _ caddyhttp.RequestMatcher = retryUnlessNoneServing{}
