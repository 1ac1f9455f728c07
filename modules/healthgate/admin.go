package healthgate

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adminapi"
)

func init() {
	caddy.RegisterModule(Admin{})
}

// Admin is the healthgate admin API (module admin.api.healthgate):
//
//	GET  /healthgate/                                    every pool and upstream
//	POST /healthgate/drain?pool=<p>&upstream=<host:port>       no new requests
//	POST /healthgate/undrain?pool=<p>&upstream=<host:port>     back to its health
//	POST /healthgate/force_down?pool=<p>&upstream=<host:port>  out, as if failing
//	POST /healthgate/ready?pool=<p>&upstream=<host:port>       clear drain and force_down
//
// Admin modules are new instances for every config load, so the handler
// reads the live, process-wide health state on every request.
type Admin struct{}

// CaddyModule returns the Caddy module information.
func (Admin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.healthgate",
		New: func() caddy.Module { return new(Admin) },
	}
}

// Routes returns the admin routes.
func (a Admin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: "/healthgate/", Handler: caddy.AdminHandlerFunc(a.serve)}}
}

// PoolStatus is one pool in the GET /healthgate/ answer.
type PoolStatus struct {
	Name      string   `json:"name"`
	Serving   int      `json:"serving"`
	Upstreams []Status `json:"upstreams"`
}

func (a Admin) serve(w http.ResponseWriter, r *http.Request) error {
	action := strings.Trim(strings.TrimPrefix(r.URL.Path, "/healthgate/"), "/")
	if action == "" {
		if err := adminapi.Allow(w, r, http.MethodGet, http.MethodHead); err != nil {
			return err
		}
		return adminapi.WriteJSON(w, map[string]any{"pools": pools(snapshot())})
	}
	if err := adminapi.Allow(w, r, http.MethodPost); err != nil {
		return err
	}
	pool, dial := r.URL.Query().Get("pool"), r.URL.Query().Get("upstream")
	if pool == "" {
		pool = defaultPool
	}
	if dial == "" {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("missing upstream=<host:port> query parameter")}
	}
	st := lookupState(pool, dial)
	if st == nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no upstream %s in pool %s", dial, pool)}
	}
	if err := st.adminAction(action); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	}
	return adminapi.WriteJSON(w, st.status())
}

// adminAction applies drain, undrain, force_down or ready, logs it and
// emits the matching event.
func (s *upstreamState) adminAction(action string) error {
	s.mu.Lock()
	wasServing := s.servingLocked()
	switch action {
	case "drain":
		s.drained = true
	case "undrain":
		s.drained = false
	case "force_down":
		s.forced = true
	case "ready":
		s.drained, s.forced = false, false
	default:
		s.mu.Unlock()
		return fmt.Errorf("unknown action %q (known: drain, undrain, force_down, ready)", action)
	}
	nowServing := s.servingLocked()
	s.mu.Unlock()
	s.updateServing()

	if log := s.logger.Load(); log != nil {
		log.Info("admin action", zapPool(s.pool), zapUpstream(s.dial), zapString("action", action))
	}
	switch {
	case action == "drain":
		s.fire(eventDrained, "drained through the admin API", "")
	case wasServing && !nowServing:
		s.fire(eventDown, action+" through the admin API", "")
	case !wasServing && nowServing:
		s.fire(eventUp, "", "")
	}
	return nil
}

// pools groups statuses (sorted by pool) by pool.
func pools(all []Status) []PoolStatus {
	out := []PoolStatus{}
	for _, st := range all {
		if len(out) == 0 || out[len(out)-1].Name != st.Pool {
			out = append(out, PoolStatus{Name: st.Pool})
		}
		p := &out[len(out)-1]
		p.Upstreams = append(p.Upstreams, st)
		if st.Serving {
			p.Serving++
		}
	}
	return out
}

// Interface guard
var _ caddy.AdminRouter = (*Admin)(nil)
