package healthgate

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// states holds one *upstreamState per (pool, upstream), reference-counted
// by every loaded config that uses it. A reload that keeps an upstream
// takes a second reference before the old config drops its own, so the
// state, its counters and its checker carry over; the last reference
// gone stops the checker.
var states = caddy.NewUsagePool()

// stateKey identifies an upstream's state across configs.
type stateKey struct{ pool, dial string }

// Health states shown by the admin API and healthz.
const (
	stateUp        = "up"          // passing, in rotation
	stateGated     = "gated"       // never passed rise checks yet
	stateDown      = "down"        // failed fall checks
	stateDrained   = "drained"     // drained through the admin API
	stateForced    = "forced_down" // forced down through the admin API
	stateConfigOff = "config_down" // marked down in the config
)

// Events emitted through caddyevents.
const (
	eventUp      = "healthgate.up"
	eventDown    = "healthgate.down"
	eventDrained = "healthgate.drained"
)

// What took a healthy upstream out of rotation (Status.DownBy, the
// events' "by" and the down_total metric's "by" label).
const (
	downByCheck   = "check"   // fall consecutive failed active checks
	downByTraffic = "traffic" // live proxied requests failed (see Observe)
)

// emitter sends caddyevents events in the context of the newest config
// that provisioned the state.
type emitter struct {
	ctx    caddy.Context
	events *caddyevents.App
}

// upstreamState is the live health of one upstream of one pool, and its
// checker goroutine.
type upstreamState struct {
	pool, dial string

	serving atomic.Bool // servingLocked, kept for the request path

	// pending is true until the upstream's first verdict: it became
	// healthy or failed a check (see verdict.go).
	pending atomic.Bool
	// liveStreak counts consecutive observed errors of live requests.
	liveStreak atomic.Int64
	// stopped is set once no loaded config uses the state.
	stopped atomic.Bool
	// traffic counts the proxied requests sent to the upstream (see
	// traffic.go); transitions counts its ups and downs.
	traffic     stats.Requests
	transitions atomic.Uint64

	mu          sync.Mutex
	cfg         *checkConfig
	healthy     bool
	everUp      bool
	downBy      string // downByCheck or downByTraffic while down
	passes      int
	fails       int
	drained     bool
	forced      bool
	configDown  bool
	backup      bool
	weight      int
	lastCheck   time.Time
	lastLatency time.Duration
	lastErr     string
	checks      uint64
	failures    uint64
	liveErrors  uint64
	lastLiveErr string

	emit   atomic.Pointer[emitter]
	logger atomic.Pointer[zap.Logger]

	client *http.Client
	cancel context.CancelFunc
	done   chan struct{}
}

// acquire takes a reference to the state of (pool, dial), creating it and
// starting its checker if no loaded config has it yet, and applies cfg.
func acquire(pool, dial string, cfg *checkConfig, initiallyHealthy bool, em *emitter, logger *zap.Logger) (*upstreamState, error) {
	v, _, err := states.LoadOrNew(stateKey{pool, dial}, func() (caddy.Destructor, error) {
		s := &upstreamState{pool: pool, dial: dial, cfg: cfg, healthy: initiallyHealthy, everUp: initiallyHealthy}
		s.emit.Store(em)
		s.logger.Store(logger)
		s.pending.Store(!initiallyHealthy)
		s.client = newCheckClient(s.followRedirects)
		s.updateServing()
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		s.done = make(chan struct{})
		metrics.state.WithLabelValues(pool, dial).Set(boolFloat(s.serving.Load()))
		go s.run(ctx)
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	s := v.(*upstreamState)
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	s.emit.Store(em)
	s.logger.Store(logger)
	return s, nil
}

// release drops a reference; the last one stops the checker.
func release(pool, dial string) {
	_, _ = states.Delete(stateKey{pool, dial})
}

// Destruct stops the checker and waits for it, and removes the metric
// series of the upstream. It implements caddy.Destructor.
func (s *upstreamState) Destruct() error {
	s.stopped.Store(true)
	s.cancel()
	<-s.done
	s.settleVerdict() // wake requests still waiting for it
	deleteSeries(s.pool, s.dial)
	return nil
}

func (s *upstreamState) followRedirects() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.follow
}

func (s *upstreamState) config() *checkConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// run checks the upstream every interval (±10 % jitter) until ctx ends.
// Checks are sequential, so there is never more than one in flight.
func (s *upstreamState) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cfg := s.config()
		res := cfg.check(ctx, s.client, s.dial)
		if ctx.Err() != nil {
			return // stopped mid-check: not the upstream's fault
		}
		s.record(cfg, res)
		t.Reset(s.nextCheck(cfg, res))
	}
}

// nextCheck is the wait before the next check: none while a new upstream
// is passing its first rise checks (see verdict.go), else the interval.
func (s *upstreamState) nextCheck(cfg *checkConfig, res result) time.Duration {
	if s.pending.Load() {
		if res.ok && !s.isHealthy() {
			return 0
		}
		s.settleVerdict()
	}
	return jitter(cfg.interval)
}

func (s *upstreamState) isHealthy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.healthy
}

// jitter spreads checks of many upstreams: d ± 10 %.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Second
	}
	return d - d/10 + rand.N(d/5+1)
}

// record applies one check result and reports a transition.
func (s *upstreamState) record(cfg *checkConfig, res result) {
	s.mu.Lock()
	s.checks++
	s.lastCheck = time.Now()
	s.lastLatency = res.latency
	var event string
	if res.ok {
		s.fails = 0
		s.passes++
		s.lastErr = ""
		if !s.healthy && s.passes >= cfg.rise {
			s.healthy, s.everUp, s.downBy = true, true, ""
			event = eventUp
		}
	} else {
		s.failures++
		s.passes = 0
		s.fails++
		s.lastErr = res.cause
		if s.healthy && s.fails >= cfg.fall {
			s.healthy, s.downBy = false, downByCheck
			event = eventDown
		}
	}
	passes, fails := s.passes, s.fails
	s.mu.Unlock()
	s.updateServing()

	metrics.checks.WithLabelValues(s.pool, s.dial).Inc()
	metrics.latency.WithLabelValues(s.pool, s.dial).Observe(res.latency.Seconds())
	if !res.ok {
		metrics.failures.WithLabelValues(s.pool, s.dial, res.kind).Inc()
	}

	log := s.logger.Load()
	switch event {
	case eventUp:
		s.transitions.Add(1)
		s.liveStreak.Store(0)
		log.Info("upstream up", zap.String("pool", s.pool), zap.String("upstream", s.dial), zap.Int("passes", passes))
		s.fire(event, "", "")
	case eventDown:
		s.wentDown(downByCheck, res.kind, res.cause, zap.Int("fails", fails))
	default:
		if !res.ok {
			log.Debug("check failed", zap.String("pool", s.pool), zap.String("upstream", s.dial), zap.String("cause", res.cause), zap.Int("fails", fails))
		}
	}
}

// wentDown reports that a healthy upstream left rotation: metric, log
// line and event, each naming what took it out (by) and why.
func (s *upstreamState) wentDown(by, reason, cause string, fields ...zap.Field) {
	s.transitions.Add(1)
	metrics.downs.WithLabelValues(s.pool, s.dial, by, reason).Inc()
	fields = append([]zap.Field{zap.String("pool", s.pool), zap.String("upstream", s.dial),
		zap.String("by", by), zap.String("cause", cause)}, fields...)
	s.logger.Load().Warn("upstream down", fields...)
	s.fire(eventDown, cause, by)
}

// fire emits a caddyevents event about this upstream; cause and by are
// left out when empty.
func (s *upstreamState) fire(name, cause, by string) {
	em := s.emit.Load()
	if em == nil || em.events == nil {
		return
	}
	data := map[string]any{"pool": s.pool, "upstream": s.dial}
	if cause != "" {
		data["cause"] = cause
	}
	if by != "" {
		data["by"] = by
	}
	em.events.Emit(em.ctx, name, data)
}

// servingLocked reports whether the upstream takes new requests: healthy,
// not drained, not forced down and not down in the config. s.mu is held.
func (s *upstreamState) servingLocked() bool {
	return s.healthy && !s.drained && !s.forced && !s.configDown
}

// updateServing recomputes whether the upstream takes new requests.
func (s *upstreamState) updateServing() {
	s.mu.Lock()
	on := s.servingLocked()
	s.mu.Unlock()
	s.serving.Store(on)
	metrics.state.WithLabelValues(s.pool, s.dial).Set(boolFloat(on))
}

// setRole records how the newest config uses the upstream.
func (s *upstreamState) setRole(backup, down bool, weight int) {
	s.mu.Lock()
	s.backup, s.configDown, s.weight = backup, down, weight
	s.mu.Unlock()
	s.updateServing()
}

// stateName is the state shown to people, most specific first.
func (s *upstreamState) stateNameLocked() string {
	switch {
	case s.configDown:
		return stateConfigOff
	case s.forced:
		return stateForced
	case s.drained:
		return stateDrained
	case s.healthy:
		return stateUp
	case !s.everUp:
		return stateGated
	}
	return stateDown
}

// Status is one upstream as the admin API and healthz report it.
type Status struct {
	Pool      string    `json:"pool"`
	Upstream  string    `json:"upstream"`
	Role      string    `json:"role"` // primary or backup
	Weight    int       `json:"weight"`
	State     string    `json:"state"`
	Serving   bool      `json:"serving"`
	Healthy   bool      `json:"healthy"`
	Passes    int       `json:"consecutive_passes"`
	Fails     int       `json:"consecutive_fails"`
	LastCheck time.Time `json:"last_check,omitzero"`
	LatencyMS float64   `json:"latency_ms"`
	LastError string    `json:"last_error,omitempty"`
	Checks    uint64    `json:"checks"`
	Failures  uint64    `json:"failures"`
	// DownBy says what took the upstream out while its state is down:
	// "check" (fall failed checks) or "traffic" (live requests failed).
	DownBy string `json:"down_by,omitempty"`
	// LiveErrors counts live proxied requests that failed on this upstream
	// (refused, reset, timed out, or 5xx), observed or not.
	LiveErrors uint64 `json:"live_errors"`
	// LastLiveError is the cause of the last of them.
	LastLiveError string `json:"last_live_error,omitempty"`
	// Rise and Fall are the pool's thresholds, for the progress of
	// consecutive_passes and consecutive_fails.
	Rise int `json:"rise"`
	Fall int `json:"fall"`
	// StateChanges counts the times the upstream came up or went down.
	StateChanges uint64 `json:"state_changes"`
	// Traffic counts the proxied requests sent to the upstream through
	// reverse_proxy's http transport.
	Traffic stats.RequestStats `json:"traffic"`
}

// cause is why the upstream is not serving, for log lines: the last check
// error, or the live error that took it out.
func (st Status) cause() string {
	if st.DownBy == downByTraffic && st.LastLiveError != "" {
		return "traffic: " + st.LastLiveError
	}
	return st.LastError
}

func (s *upstreamState) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	role := "primary"
	if s.backup {
		role = "backup"
	}
	return Status{
		Pool: s.pool, Upstream: s.dial, Role: role, Weight: s.weight,
		State: s.stateNameLocked(), Serving: s.servingLocked(),
		Healthy: s.healthy, Passes: s.passes, Fails: s.fails, LastCheck: s.lastCheck,
		LatencyMS: float64(s.lastLatency.Microseconds()) / 1000, LastError: s.lastErr,
		Checks: s.checks, Failures: s.failures,
		LiveErrors: s.liveErrors, LastLiveError: s.lastLiveErr,
		DownBy: downByIf(s.stateNameLocked() == stateDown, s.downBy),
		Rise:   s.cfg.rise, Fall: s.cfg.fall, StateChanges: s.transitions.Load(), Traffic: s.traffic.Stats(),
	}
}

func downByIf(down bool, by string) string {
	if down {
		return by
	}
	return ""
}

// snapshot returns the status of every upstream of every loaded pool.
func snapshot() []Status {
	var out []Status
	states.Range(func(_, v any) bool {
		out = append(out, v.(*upstreamState).status())
		return true
	})
	sortStatuses(out)
	return out
}

// lookupState finds the live state of an upstream.
func lookupState(pool, dial string) *upstreamState {
	var found *upstreamState
	states.Range(func(k, v any) bool {
		if k.(stateKey) == (stateKey{pool, dial}) {
			found = v.(*upstreamState)
			return false
		}
		return true
	})
	return found
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
