// Package errorpage implements the error_page HTTP handler: the short page a
// client gets when a request fails (nginx's error_page and its built-in
// "502 Bad Gateway" page), written without losing the error-level log line
// that names the cause.
//
// Caddy writes an empty body for a failed request unless the site has error
// routes, and when a site has them it logs the failure only at debug level.
// error_page does both jobs: it answers with the status and a short body and
// logs server errors at error level on Caddy's own error logger, so a
// `log { include http.log.error }` file reads as it did without it.
package errorpage

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// errorLoggerName is the logger Caddy's HTTP servers log failed requests on;
// error_page logs on it too, so log configurations that include it keep
// seeing every failure.
const errorLoggerName = "http.log.error"

// errorLogger stands for Caddy's HTTP error logger when asking the context
// for a logger: Caddy picks the logs a logger writes to by its name, so a
// `log { include http.log.error }` gets error_page's lines as it gets the
// server's own.
type errorLogger struct{}

// CaddyModule names the logger; errorLogger is never registered.
func (errorLogger) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: errorLoggerName}
}

// defaultBody is the page: the status line, as nginx's built-in pages say it.
const defaultBody = "{http.error.status_code} {http.error.status_text}\n"

// Handler answers a failed request with its status and a short body. It is
// meant for a server's error routes (the Caddyfile directive error_page puts
// it there); elsewhere it answers 500.
type Handler struct {
	// Body is the response body; placeholders are replaced, the {http.error.*}
	// ones included. Default: the status code and text on one line, e.g.
	// "502 Bad Gateway".
	Body string `json:"body,omitempty"`

	// ContentType is the Content-Type of the body. Default:
	// "text/plain; charset=utf-8".
	ContentType string `json:"content_type,omitempty"`

	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.error_page",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision fills the defaults.
func (h *Handler) Provision(ctx caddy.Context) error {
	if h.Body == "" {
		h.Body = defaultBody
	}
	if h.ContentType == "" {
		h.ContentType = "text/plain; charset=utf-8"
	}
	h.logger = ctx.Logger(errorLogger{})
	return nil
}

// ServeHTTP writes the page for the request's error and logs a server error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	status := http.StatusInternalServerError
	herr, _ := r.Context().Value(caddyhttp.ErrorCtxKey).(error)
	var he caddyhttp.HandlerError
	if errors.As(herr, &he) && he.StatusCode != 0 {
		status = he.StatusCode
	}
	if status >= http.StatusInternalServerError {
		h.logError(r, status, herr, he)
	}
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	body := h.Body
	if repl != nil {
		body = repl.ReplaceKnown(body, "")
	}
	w.Header().Set("Content-Type", h.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
	return nil
}

// logError writes what Caddy's server would have written for the error had
// no error route handled it: the cause as the message, the request, status
// and error ID as fields.
func (h *Handler) logError(r *http.Request, status int, err error, he caddyhttp.HandlerError) {
	msg := "request failed"
	switch {
	case he.Err != nil:
		msg = he.Err.Error()
	case err != nil:
		msg = err.Error()
	}
	ce := h.logger.Check(zapcore.ErrorLevel, msg)
	if ce == nil {
		return
	}
	ce.Write(
		zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r}),
		zap.Int("status", status),
		zap.String("err_id", he.ID),
		zap.String("err_trace", he.Trace),
		zap.String("page", "error_page"),
	)
}

// statusCodes parses error_page's status arguments: three-digit codes and
// classes such as 5xx.
func statusCodes(args []string) (codes []int, classes []int, err error) {
	for _, a := range args {
		if len(a) == 3 && strings.HasSuffix(a, "xx") && (a[0] == '4' || a[0] == '5') {
			classes = append(classes, int(a[0]-'0'))
			continue
		}
		n, convErr := strconv.Atoi(a)
		if convErr != nil || n < 400 || n > 599 {
			return nil, nil, errors.New("status " + strconv.Quote(a) + ": want an error status (400-599) or a class, 4xx or 5xx")
		}
		codes = append(codes, n)
	}
	return codes, classes, nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
