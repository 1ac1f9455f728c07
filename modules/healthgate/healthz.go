package healthgate

import (
	"encoding/json"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Healthz{})
}

func zapPool(p string) zap.Field      { return zap.String("pool", p) }
func zapUpstream(u string) zap.Field  { return zap.String("upstream", u) }
func zapString(k, v string) zap.Field { return zap.String(k, v) }

// Healthz is the healthz HTTP handler (module http.handlers.healthz): the
// health of Frontdesk itself, for an outer load balancer. It answers 200
// {"status":"healthy"} while at least MinHealthy upstreams of the named
// pools are serving, and otherwise 503 with every upstream's state and
// last error in JSON. It is a terminal handler.
type Healthz struct {
	// Pools whose upstreams count. Default: every pool of every loaded config.
	Pools []string `json:"pools,omitempty"`

	// MinHealthy is how many serving upstreams make Frontdesk healthy.
	// Default: 1.
	MinHealthy int `json:"min_healthy,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Healthz) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.healthz",
		New: func() caddy.Module { return new(Healthz) },
	}
}

// Provision sets defaults.
func (h *Healthz) Provision(caddy.Context) error {
	if h.MinHealthy == 0 {
		h.MinHealthy = 1
	}
	return nil
}

// ServeHTTP answers with the current health.
func (h *Healthz) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	counts := poolFilter(h.Pools)
	var detail []Status
	serving := 0
	for _, st := range snapshot() {
		if !counts(st.Pool) {
			continue
		}
		detail = append(detail, st)
		if st.Serving {
			serving++
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if serving >= h.MinHealthy {
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte("{\"status\":\"healthy\"}\n"))
		}
		return nil
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	if r.Method == http.MethodHead {
		return nil
	}
	if detail == nil {
		detail = []Status{}
	}
	return json.NewEncoder(w).Encode(map[string]any{
		"status":      "unhealthy",
		"serving":     serving,
		"min_healthy": h.MinHealthy,
		"upstreams":   detail,
	})
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Healthz)(nil)
	_ caddyhttp.MiddlewareHandler = (*Healthz)(nil)
)
