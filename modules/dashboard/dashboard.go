// Package dashboard is the frontdesk_dashboard HTTP handler and the
// /frontdesk/dashboard admin API: one live page for the whole stack, like
// HAProxy's stats page and Pi-hole's dashboard together. It shows the
// healthgate pools and upstreams, the dnsmasq app, the proxy_cache zones
// and a map of the sites of the config (their names, whether the DNS app
// answers them, their cache zones and upstream pools). It reads the
// modules through modules/internal/stats, where each registers its
// section, and imports none of them.
package dashboard

import (
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

func init() {
	caddy.RegisterModule(Handler{})
	caddyopt.RegisterHandlerDirective("frontdesk_dashboard", caddyopt.ParseHandler[Handler])
}

// Bounds of the refresh interval.
const (
	defaultRefresh = 3 * time.Second
	minRefresh     = time.Second
)

// Query parameters that select what the handler answers besides the page.
const (
	queryData  = "data"  // GET ?data: the figures as JSON
	queryPurge = "purge" // POST ?purge: a cache purge (see purge.go)
)

// Handler is the frontdesk_dashboard HTTP handler (module
// http.handlers.frontdesk_dashboard). It serves the dashboard page at its
// path, its figures as JSON with ?data, and the page's cache purge as a
// POST with ?purge (same origin only, see purge.go). It is a terminal
// handler; protect it like any admin page (basic_auth, a remote_ip
// matcher). While it is loaded, the modules gather the figures that cost
// more than a counter (top lists, the query log).
type Handler struct {
	// Refresh is how often the page polls for new figures. Default: 3s;
	// at least 1s.
	Refresh caddy.Duration `json:"refresh,omitempty"`

	page    []byte
	unwatch func()
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.frontdesk_dashboard",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision checks the refresh interval and starts the modules' gathering.
func (h *Handler) Provision(caddy.Context) error {
	if err := caddyopt.DurationOr(&h.Refresh, defaultRefresh, minRefresh); err != nil {
		return fmt.Errorf("frontdesk_dashboard: refresh %v", err)
	}
	h.page = renderPage(pageURLs{Data: "?" + queryData, Purge: "?" + queryPurge}, time.Duration(h.Refresh))
	h.unwatch = stats.Watch()
	return nil
}

// Cleanup stops this handler's share of the gathering.
func (h *Handler) Cleanup() error {
	if h.unwatch != nil {
		h.unwatch()
	}
	return nil
}

// ServeHTTP serves the page, the data or a purge.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	q := r.URL.Query()
	switch {
	case q.Has(queryPurge):
		return asHandlerError(servePurge(w, r))
	case q.Has(queryData):
		return asHandlerError(serveData(w, r))
	}
	return asHandlerError(servePage(w, r, h.page))
}

// asHandlerError turns an APIError into the HTTP handler error with its
// status.
func asHandlerError(err error) error {
	if ae, ok := err.(caddy.APIError); ok {
		return caddyhttp.Error(ae.HTTPStatus, ae.Err)
	}
	return err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
