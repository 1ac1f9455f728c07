package dashboard

import (
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

func init() {
	caddy.RegisterModule(Admin{})
}

// Admin paths of the dashboard.
const (
	adminPage  = "/frontdesk/dashboard"
	adminData  = "/frontdesk/dashboard/data"
	adminPurge = "/frontdesk/dashboard/purge"
)

// adminWatch is how long the modules keep gathering their top lists and
// query log after the admin API's dashboard was last polled.
const adminWatch = 10 * time.Minute

// Admin is the dashboard on the admin endpoint (module
// admin.api.frontdesk_dashboard):
//
//	GET  /frontdesk/dashboard        the page
//	GET  /frontdesk/dashboard/data   the figures as JSON
//	POST /frontdesk/dashboard/purge  {"zone": ..., "key"|"url"|"prefix"|"tag": ...}, from the page only
//
// The admin endpoint is Caddy's (localhost:2019 by default); its own
// origin checks apply before the purge's (purge.go). Admin modules are not
// loaded with a config, so the data reads the running config at request
// time, and each poll keeps the modules gathering their top lists and
// query log for adminWatch.
type Admin struct{}

// CaddyModule returns the Caddy module information.
func (Admin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.frontdesk_dashboard",
		New: func() caddy.Module { return new(Admin) },
	}
}

// adminPageHTML is the page with the admin API's URLs.
var adminPageHTML = renderPage(pageURLs{Data: adminData, Purge: adminPurge}, defaultRefresh)

// Routes returns the admin routes.
func (Admin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: adminPage, Handler: caddy.AdminHandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			return servePage(w, r, adminPageHTML)
		})},
		{Pattern: adminData, Handler: caddy.AdminHandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			stats.WatchFor(adminWatch)
			return serveData(w, r)
		})},
		{Pattern: adminPurge, Handler: caddy.AdminHandlerFunc(servePurge)},
	}
}

// Interface guard
var _ caddy.AdminRouter = Admin{}
