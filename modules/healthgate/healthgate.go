// Package healthgate is a reverse_proxy upstream source that hands out only
// upstreams its own active checker has proven healthy, like HAProxy's
// `check rise/fall` and nginx's `backup`/`down`, with state that survives
// config reloads. It also provides the healthz handler (Frontdesk's own
// health for an outer load balancer) and the admin API /healthgate/.
package healthgate

import (
	"cmp"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Source{})
}

// Defaults of the active check.
const (
	defaultPool     = "default"
	defaultURI      = "/healthz"
	defaultInterval = 5 * time.Second
	defaultTimeout  = 2 * time.Second
	defaultRise     = 2
	defaultFall     = 3
	defaultMaxBody  = 64 << 10
)

// Source is the healthgate upstream source (module
// http.reverse_proxy.upstreams.healthgate). It actively checks every
// upstream of its pool and returns to reverse_proxy only those that are
// serving: passed `rise` consecutive checks since they were last down, not
// drained or forced down through the admin API, not marked down in the
// config. Backup upstreams are returned only while no primary is serving.
// When nothing is serving, the request fails at once with 502 Bad Gateway
// (its error "no healthy upstream in pool <pool> (...)" names every
// upstream's state, see noneserving.go), or 503 with an optional
// Retry-After (see Unavailable), without the lb_try_duration retry loop.
type Source struct {
	// Pool names this set of upstreams in the admin API, metrics, events and
	// the healthz handler. Health state is kept per pool and upstream address
	// across config reloads. Default: "default".
	Pool string `json:"pool,omitempty"`

	// Upstreams are the backends of the pool, in order.
	Upstreams []Member `json:"upstreams,omitempty"`

	// URI is the path (and query) requested by the active check.
	// Default: /healthz.
	URI string `json:"uri,omitempty"`

	// Method of the check request. Default: GET.
	Method string `json:"method,omitempty"`

	// Host is the Host header of the check request. Default: the upstream
	// address.
	Host string `json:"host,omitempty"`

	// Interval between two checks of one upstream; each wait is jittered by
	// ±10 %. Checks of one upstream never overlap. Default: 5s.
	Interval caddy.Duration `json:"interval,omitempty"`

	// Timeout bounds a whole check: connect, response and body read.
	// Default: 2s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// ExpectStatus lists the status codes that pass: codes ("200"), classes
	// ("2xx") or ranges ("200-399"). Default: 2xx.
	ExpectStatus []string `json:"expect_status,omitempty"`

	// ExpectBody is a regular expression (Go syntax) the body must match.
	ExpectBody string `json:"expect_body,omitempty"`

	// ExpectJSON requires the body to be JSON with a field of a given value,
	// for example {"path": "status", "value": "healthy"}.
	ExpectJSON *JSONExpectation `json:"expect_json,omitempty"`

	// MaxBody is how many bytes of the body a check reads at most; a larger
	// body fails a check that looks at the body. Default: 65536.
	MaxBody int64 `json:"max_body,omitempty"`

	// FollowRedirects follows up to 5 redirects; by default a redirect is
	// the response judged by expect_status (and fails the default 2xx).
	FollowRedirects bool `json:"follow_redirects,omitempty"`

	// Rise is how many consecutive passing checks bring an upstream into
	// rotation (HAProxy's rise). Default: 2.
	Rise int `json:"rise,omitempty"`

	// Fall is how many consecutive failing checks take it out (HAProxy's
	// fall). Default: 3.
	Fall int `json:"fall,omitempty"`

	// InitiallyHealthy puts a new upstream in rotation before its first
	// check (stock Caddy's behaviour). By default a new upstream is gated:
	// it gets no traffic until it has passed `rise` checks.
	InitiallyHealthy bool `json:"initially_healthy,omitempty"`

	// Unavailable chooses the answer when no upstream is serving: 502 Bad
	// Gateway (the default) or 503 Service Unavailable with an optional
	// Retry-After. The 503 is served by an in-process responder on
	// 127.0.0.1 that reverse_proxy dials like an upstream; it needs
	// reverse_proxy's plain http transport and no passive health check
	// unhealthy_status matching 503 (checked at provisioning).
	Unavailable *Unavailable `json:"unavailable,omitempty"`

	// Observe chooses which failures of live proxied requests take an
	// upstream out of rotation at once, for every handler of the pool,
	// until the active checker brings it back after rise passes. Default:
	// on, for connection errors (refused, dial timeout, reset) on the
	// first error.
	Observe *Observe `json:"observe,omitempty"`

	members     []member
	cfg         *checkConfig
	logger      *zap.Logger
	lastLog     *atomic.Int64
	sentinel    string
	verdictWait time.Duration // how long a request waits for a first verdict
	watch       *trafficWatch // nil when live traffic is not observed

	proxy     *reverseproxy.Handler // the parent handler, if known
	responder *responder            // with unavailable 503
	respKey   responderKey
}

// Member is one upstream of a pool.
type Member struct {
	// Dial is the upstream's host:port.
	Dial string `json:"dial"`

	// Weight makes the upstream appear this many times in the list handed to
	// the load-balancing policy, so random, round_robin and least_conn send
	// it proportionally more requests. Default: 1.
	Weight int `json:"weight,omitempty"`

	// Backup upstreams get requests only while no primary is serving.
	Backup bool `json:"backup,omitempty"`

	// Down keeps the upstream out of rotation (it is still checked and
	// shown), like nginx's `server ... down`.
	Down bool `json:"down,omitempty"`
}

// JSONExpectation is a field the JSON body must have.
type JSONExpectation struct {
	// Path of the field: object keys and array indexes separated by dots,
	// e.g. "status" or "checks.db.0.ok".
	Path string `json:"path"`

	// Value the field must have: a string field compares as itself, any
	// other value as its compact JSON text (true, 3, null).
	Value string `json:"value"`
}

type member struct {
	st     *upstreamState
	weight int
	backup bool
	down   bool
}

// CaddyModule returns the Caddy module information.
func (Source) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.upstreams.healthgate",
		New: func() caddy.Module { return new(Source) },
	}
}

// compile checks the configuration and builds the check settings.
func (s *Source) compile() (*checkConfig, error) {
	// A zero value takes the default; a negative one is refused below.
	c := &checkConfig{
		uri:      cmp.Or(s.URI, defaultURI),
		method:   cmp.Or(s.Method, http.MethodGet),
		host:     s.Host,
		interval: cmp.Or(time.Duration(s.Interval), defaultInterval),
		timeout:  cmp.Or(time.Duration(s.Timeout), defaultTimeout),
		rise:     cmp.Or(s.Rise, defaultRise),
		fall:     cmp.Or(s.Fall, defaultFall),
		follow:   s.FollowRedirects,
		maxBody:  cmp.Or(s.MaxBody, defaultMaxBody),
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := c.compileExpect(s); err != nil {
		return nil, err
	}
	if err := s.Unavailable.validate(); err != nil {
		return nil, err
	}
	if err := s.Observe.validate(); err != nil {
		return nil, err
	}
	if err := checkMembers(s.Upstreams); err != nil {
		return nil, err
	}
	return c, nil
}

// validate refuses a probe setting out of its range.
func (c *checkConfig) validate() error {
	if err := checkURI(c.uri); err != nil {
		return err
	}
	if err := checkMethod(c.method); err != nil {
		return err
	}
	if c.interval < 0 || c.timeout < 0 {
		return fmt.Errorf("interval and timeout must be positive")
	}
	if err := checkCount("rise", c.rise); err != nil {
		return err
	}
	if err := checkCount("fall", c.fall); err != nil {
		return err
	}
	return checkMaxBody(c.maxBody)
}

// compileExpect compiles what s expects of a healthy answer: status,
// body regular expression, JSON field.
func (c *checkConfig) compileExpect(s *Source) error {
	var err error
	if len(s.ExpectStatus) > 0 {
		if c.status, err = parseStatusSpec(s.ExpectStatus); err != nil {
			return err
		}
	}
	if s.ExpectBody != "" {
		if c.bodyRe, err = regexp.Compile(s.ExpectBody); err != nil {
			return fmt.Errorf("expect_body: %v", err)
		}
	}
	if s.ExpectJSON != nil {
		if c.jsonPath, err = parseJSONPath(s.ExpectJSON.Path); err != nil {
			return err
		}
		c.jsonValue = s.ExpectJSON.Value
	}
	return nil
}

// checkMembers refuses an empty pool, a bad address or weight, and an
// address listed twice.
func checkMembers(members []Member) error {
	if len(members) == 0 {
		return fmt.Errorf("no upstreams: give at least one with to")
	}
	seen := map[string]bool{}
	for _, m := range members {
		if err := checkDial(m.Dial); err != nil {
			return err
		}
		if seen[m.Dial] {
			return fmt.Errorf("upstream %s listed twice", m.Dial)
		}
		seen[m.Dial] = true
		if m.Weight != 0 {
			if err := checkWeight(m.Dial, m.Weight); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDial accepts host:port with a single, non-zero TCP port.
func checkDial(dial string) error {
	host, port, err := net.SplitHostPort(dial)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("upstream %q: want host:port (e.g. 127.0.0.1:8080)", dial)
	}
	if strings.Contains(dial, "/") || strings.Contains(dial, "{") {
		return fmt.Errorf("upstream %q: want host:port, without scheme, path or placeholders", dial)
	}
	a, err := caddy.ParseNetworkAddress(dial)
	if err != nil || a.PortRangeSize() != 1 || a.StartPort == 0 {
		return fmt.Errorf("upstream %q: want host:port with one port between 1 and 65535", dial)
	}
	return nil
}

// Provision validates the config, takes a reference to the live state of
// every upstream (starting checkers for new ones) and registers metrics.
func (s *Source) Provision(ctx caddy.Context) error {
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	em := &emitter{ctx: ctx}
	if app, err := ctx.App("events"); err == nil {
		em.events, _ = app.(*caddyevents.App)
	}
	h := parentProxy(ctx)
	s.proxy = h
	if err := s.provision(em, ctx.Logger()); err != nil {
		return err
	}
	if err := s.wrapTransport(ctx, h); err != nil {
		return fmt.Errorf("healthgate pool %s: %v", s.Pool, err)
	}
	return nil
}

// provision is Provision without the caddy.Context, for tests.
func (s *Source) provision(em *emitter, logger *zap.Logger) error {
	s.logger = logger
	if s.Pool == "" {
		s.Pool = defaultPool
	}
	cfg, err := s.compile()
	if err != nil {
		return fmt.Errorf("healthgate pool %s: %v", s.Pool, err)
	}
	s.cfg = cfg
	s.sentinel = sentinelDial(s.Pool)
	s.lastLog = new(atomic.Int64)
	s.verdictWait = verdictWait(s.proxy, cfg)
	if s.Unavailable.wants503() {
		err := checkProxy(s.proxy)
		s.proxy = nil // only needed for the check; do not keep the handler alive
		if err != nil {
			return fmt.Errorf("healthgate pool %s: %v", s.Pool, err)
		}
		s.respKey = responderKey{s.Pool, s.Unavailable.retryAfterSeconds()}
		if s.responder, err = acquireResponder(s.respKey.pool, s.respKey.retryAfter); err != nil {
			return fmt.Errorf("healthgate pool %s: %v", s.Pool, err)
		}
	}
	for _, m := range s.Upstreams {
		st, err := acquire(s.Pool, m.Dial, cfg, s.InitiallyHealthy, em, s.logger)
		if err != nil {
			return err
		}
		w := m.Weight
		if w == 0 {
			w = 1
		}
		st.setRole(m.Backup, m.Down, w)
		s.members = append(s.members, member{st: st, weight: w, backup: m.Backup, down: m.Down})
	}
	s.watch = newTrafficWatch(s.Observe, s.members)
	return nil
}

// verdictWait bounds how long a request waits for a pool's first verdict:
// reverse_proxy's lb_try_duration if set, else the longest the first rise
// checks can take (rise × timeout).
func verdictWait(h *reverseproxy.Handler, cfg *checkConfig) time.Duration {
	if h != nil && h.LoadBalancing != nil && h.LoadBalancing.TryDuration > 0 {
		return time.Duration(h.LoadBalancing.TryDuration)
	}
	return time.Duration(cfg.rise) * cfg.timeout
}

// Cleanup releases the upstream states; those no loaded config uses any
// more stop being checked.
func (s *Source) Cleanup() error {
	// s.members stays set, like s.responder: requests still finishing on
	// this config (or waiting for a first verdict) read it without a lock.
	for _, m := range s.members {
		release(s.Pool, m.st.dial)
	}
	if s.responder != nil {
		// s.responder stays set: a request still finishing on this
		// config reads it without a lock.
		releaseResponder(s.respKey.pool, s.respKey.retryAfter)
	}
	return nil
}

// GetUpstreams returns the serving primaries (each repeated by its
// weight), or the serving backups if no primary serves, or else one
// sentinel upstream that makes reverse_proxy fail the request at once
// with 502 instead of retrying (see noneserving.go); with unavailable 503, the pool's loopback responder, which
// answers 503. While nothing serves because upstreams have no verdict yet
// (just after start or after they were added), it first waits for one.
func (s *Source) GetUpstreams(r *http.Request) ([]*reverseproxy.Upstream, error) {
	n, backup := s.servingWeight()
	if n == 0 || backup {
		s.awaitVerdict(r)
		n, backup = s.servingWeight()
	}
	if n == 0 {
		return s.noneServing(), nil
	}
	// Fresh Upstream values on every call: reverse_proxy writes to them
	// (Host, circuit breaker) while provisioning them per request. Their Host
	// (passive health, request counts) is shared by dial address inside
	// reverse_proxy, so passive health checks still apply.
	ups := make([]reverseproxy.Upstream, n)
	out := make([]*reverseproxy.Upstream, 0, n)
	for _, m := range s.members {
		if m.backup != backup || m.down || !m.st.serving.Load() {
			continue
		}
		for range m.weight {
			if len(out) == n { // a state flipped to serving meanwhile
				break
			}
			u := &ups[len(out)]
			u.Dial = m.st.dial
			out = append(out, u)
		}
	}
	if len(out) == 0 { // every one of them left rotation meanwhile
		return s.noneServing(), nil
	}
	return out[:len(out):len(out)], nil
}

// noneServing is the answer when nothing serves: the sentinel upstream
// (502, see noneserving.go) or the pool's responder (503). It logs the
// upstreams' states.
func (s *Source) noneServing() []*reverseproxy.Upstream {
	s.logNoneServing()
	if s.responder != nil {
		return []*reverseproxy.Upstream{s.responder.upstream()}
	}
	return []*reverseproxy.Upstream{{Dial: s.sentinel}}
}

// servingWeight is the summed weight of the serving primaries, or, when
// none serves, of the serving backups (then backup is true).
func (s *Source) servingWeight() (n int, backup bool) {
	for _, m := range s.members {
		if !m.backup && !m.down && m.st.serving.Load() {
			n += m.weight
		}
	}
	if n > 0 {
		return n, false
	}
	for _, m := range s.members {
		if m.backup && !m.down && m.st.serving.Load() {
			n += m.weight
		}
	}
	return n, true
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Source)(nil)
	_ caddy.CleanerUpper          = (*Source)(nil)
	_ reverseproxy.UpstreamSource = (*Source)(nil)
)
