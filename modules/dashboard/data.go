package dashboard

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adminapi"
	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// Sections of the data besides the modules' own (stats.Section...).
const (
	sectionSites     = "sites"     // the site map (sitemap.go)
	sectionGenerated = "generated" // when the figures were read
)

// data is the dashboard's JSON: every module's section by name, the site
// map of the running config, and the time.
func data() map[string]any {
	out := stats.Snapshot()
	out[sectionSites] = siteMap(caddy.ActiveContext())
	out[sectionGenerated] = time.Now().UTC()
	return out
}

// serveData answers GET (or HEAD) with the data.
func serveData(w http.ResponseWriter, r *http.Request) error {
	if err := adminapi.Allow(w, r, http.MethodGet, http.MethodHead); err != nil {
		return err
	}
	body, err := json.Marshal(data())
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: err}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(body)
	return err
}
