package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adminapi"
	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// The purge is the page's one write action. A browser must never carry it
// out for another site, so it is refused unless it comes from the page
// itself, like Caddy's admin API with enforce_origin:
//   - a POST with a JSON body (Content-Type application/json) and the
//     custom header below: a cross-origin page cannot send either without a
//     CORS preflight, which is never answered with CORS headers;
//   - an Origin header (or, without one, a Referer) with the request's own
//     scheme and host;
//   - a Sec-Fetch-Site header, when the browser sends one, of same-origin.

// PurgeHeader is the custom header a purge request must carry, with the
// value PurgeHeaderValue.
const (
	PurgeHeader      = "X-Frontdesk-Dashboard"
	PurgeHeaderValue = "purge"
)

// maxPurgeBody bounds the purge request's body.
const maxPurgeBody = 64 << 10

// servePurge checks that the request comes from the page and carries out
// the purge through the cache's hook.
func servePurge(w http.ResponseWriter, r *http.Request) error {
	if err := adminapi.Allow(w, r, http.MethodPost); err != nil {
		return err
	}
	if err := sameOrigin(r); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusForbidden, Err: err}
	}
	var req stats.PurgeRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxPurgeBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("bad JSON body: %v", err)}
	}
	n, ok, err := stats.Purge(req)
	var bad stats.BadRequest
	switch {
	case !ok:
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: errors.New("no cache is loaded: nothing to purge")}
	case errors.As(err, &bad):
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	case err != nil:
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
	}
	w.Header().Set("Cache-Control", "no-store")
	return adminapi.WriteJSON(w, map[string]int{"purged": n})
}

// sameOrigin says why a request may not come from the page itself, or nil.
func sameOrigin(r *http.Request) error {
	if r.Header.Get(PurgeHeader) != PurgeHeaderValue {
		return fmt.Errorf("missing %s: %s header", PurgeHeader, PurgeHeaderValue)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errors.New("the body must be application/json")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return fmt.Errorf("Sec-Fetch-Site %q: only the page itself may purge", site)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	if origin == "" {
		return errors.New("required Origin header is missing")
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("bad Origin %q", origin)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if u.Scheme != scheme || !strings.EqualFold(u.Host, r.Host) {
		return fmt.Errorf("origin %s is not this page's (%s://%s)", origin, scheme, r.Host)
	}
	return nil
}
