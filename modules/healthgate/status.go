package healthgate

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
)

func init() {
	caddy.RegisterModule(StatusPage{})
	caddyopt.RegisterHandlerDirective("health_status", caddyopt.ParseHandler[StatusPage])
}

// StatusPage is the health_status HTTP handler (module
// http.handlers.health_status): a human-readable page, like HAProxy's stats
// page, listing pools, upstreams, states, last checks and latencies. It
// refreshes itself and reads well on a phone. It is a terminal handler;
// protect it like any admin page (basic_auth, a remote_ip matcher).
type StatusPage struct {
	// Pools to show. Default: every pool.
	Pools []string `json:"pools,omitempty"`

	// Refresh is how often the page reloads itself. Default: 5s.
	Refresh caddy.Duration `json:"refresh,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (StatusPage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.health_status",
		New: func() caddy.Module { return new(StatusPage) },
	}
}

// Provision sets defaults.
func (p *StatusPage) Provision(caddy.Context) error {
	if err := caddyopt.DurationOr(&p.Refresh, 5*time.Second, time.Second); err != nil {
		return fmt.Errorf("health_status: refresh %v", err)
	}
	return nil
}

type statusRow struct {
	Status
	Ago string
}

type statusPool struct {
	Name    string
	Serving int
	Rows    []statusRow
}

var statusTmpl = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>Frontdesk upstream health</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:1em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .5em}
h2{font-size:1.1em;margin:1.2em 0 .4em}
.wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:.35em .6em;border-bottom:1px solid #ddd;text-align:left;white-space:nowrap}
th{background:#eee;font-weight:600}
td.err{white-space:normal;min-width:12em}
.state{font-weight:600;border-radius:3px;padding:.1em .4em}
.up{background:#c8f0c8}.down,.forced_down{background:#f7c4c4}.gated{background:#f3e3a6}
.drained,.config_down{background:#d6dcf5}
footer{margin-top:1em;color:#777;font-size:.85em}
</style>
</head>
<body>
<h1>Upstream health</h1>
{{range .Pools}}<section class="pool" data-pool="{{.Name}}">
<h2>Pool {{.Name}}: {{.Serving}} of {{len .Rows}} serving</h2>
<div class="wrap"><table>
<thead><tr><th>Upstream</th><th>Role</th><th>Weight</th><th>State</th><th>Passes</th><th>Fails</th><th>Last check</th><th>Latency</th><th>Checks</th><th>Failures</th><th>Last error</th><th>Live errors</th><th>Last live error</th></tr></thead>
<tbody>
{{range .Rows}}<tr data-upstream="{{.Upstream}}"><td>{{.Upstream}}</td><td>{{.Role}}</td><td>{{.Weight}}</td><td><span class="state {{.State}}">{{.State}}</span>{{with .DownBy}} <small class="by">by {{.}}</small>{{end}}</td><td>{{.Passes}}</td><td>{{.Fails}}</td><td>{{.Ago}}</td><td>{{printf "%.1f" .LatencyMS}} ms</td><td>{{.Checks}}</td><td>{{.Failures}}</td><td class="err">{{.LastError}}</td><td>{{.LiveErrors}}</td><td class="err">{{.LastLiveError}}</td></tr>
{{end}}</tbody>
</table></div>
</section>
{{else}}<p>No healthgate pools are loaded.</p>
{{end}}<footer>Generated {{.Now}}; refreshes every {{.Refresh}} s.</footer>
</body>
</html>
`))

// ServeHTTP renders the page.
func (p *StatusPage) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	shows := poolFilter(p.Pools)
	now := time.Now()
	var shown []statusPool
	for _, ps := range pools(snapshot()) {
		if !shows(ps.Name) {
			continue
		}
		sp := statusPool{Name: ps.Name, Serving: ps.Serving}
		for _, st := range ps.Upstreams {
			ago := "never"
			if !st.LastCheck.IsZero() {
				ago = now.Sub(st.LastCheck).Round(time.Millisecond).String() + " ago"
			}
			sp.Rows = append(sp.Rows, statusRow{Status: st, Ago: ago})
		}
		shown = append(shown, sp)
	}
	var buf bytes.Buffer
	err := statusTmpl.Execute(&buf, map[string]any{
		"Pools":   shown,
		"Refresh": strconv.Itoa(int(time.Duration(p.Refresh) / time.Second)),
		"Now":     now.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return caddyhttp.Error(http.StatusInternalServerError, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// UnmarshalCaddyfile sets up the status page. Syntax:
//
//	health_status [<matcher>] [<pools...>] {
//	    pools   <pools...>
//	    refresh <duration>
//	}
func (p *StatusPage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalPoolHandler(d, "health_status", &p.Pools, map[string]func([]string) error{
		"refresh": func(args []string) error {
			dur, err := caddyopt.DurationAtLeast(args, time.Second)
			p.Refresh = dur
			return err
		},
	})
}

// Interface guards
var (
	_ caddy.Provisioner           = (*StatusPage)(nil)
	_ caddyhttp.MiddlewareHandler = (*StatusPage)(nil)
	_ caddyfile.Unmarshaler       = (*StatusPage)(nil)
)
