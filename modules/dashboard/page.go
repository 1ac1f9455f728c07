package dashboard

import (
	_ "embed"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adminapi"
)

// pageTemplate is the page: HTML, CSS and JS in one file, no external
// assets. Its placeholders are filled by renderPage.
//
//go:embed page/index.html
var pageTemplate string

// Placeholders of pageTemplate.
const (
	placeholderData    = "{{DATA_URL}}"
	placeholderPurge   = "{{PURGE_URL}}"
	placeholderRefresh = "{{REFRESH_MS}}"
)

// pageCSP is the page's Content-Security-Policy: its own inline script and
// style, requests to its own origin, nothing else.
const pageCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageURLs are where the page gets its data and sends its purges.
type pageURLs struct{ Data, Purge string }

// renderPage fills the template's placeholders.
func renderPage(u pageURLs, refresh time.Duration) []byte {
	r := strings.NewReplacer(placeholderData, html.EscapeString(u.Data), placeholderPurge, html.EscapeString(u.Purge),
		placeholderRefresh, strconv.FormatInt(refresh.Milliseconds(), 10))
	return []byte(r.Replace(pageTemplate))
}

// servePage answers GET (or HEAD) with the page.
func servePage(w http.ResponseWriter, r *http.Request, page []byte) error {
	if err := adminapi.Allow(w, r, http.MethodGet, http.MethodHead); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(page)
	return err
}
