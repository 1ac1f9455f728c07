package headerpolicy

import (
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adaptedfile"
)

// Two request fields of nginx's set are out of header_policy's reach:
// reverse_proxy appends `Via: 1.1 Caddy` after every handler has run, and
// Go's transport adds `Accept-Encoding: gzip` when the client sent none.
// Only the reverse_proxy block itself can stop them, so the nginx preset
// checks its sibling reverse_proxy directives in the Caddyfile being
// adapted and warns, with the file and line, about each line they lack.

// proxyGap is one line a reverse_proxy block needs for nginx's header set.
type proxyGap struct {
	field string // what reaches the backend without the line
	fix   string // the line to add, and where
}

var (
	gapVia = proxyGap{
		field: "Via: 1.1 Caddy (nginx sends no Via)",
		fix:   "`header_up -Via` to its block",
	}
	gapGzip = proxyGap{
		field: "Accept-Encoding: gzip when the client sent none (nginx passes the client's own)",
		fix:   "`transport http { compression off }` to its block",
	}
)

// warnProxyGaps logs a warning for every reverse_proxy next to the
// header_policy directive at that lets the backend see what nginx would
// not send. A Caddyfile that cannot be re-read is not checked.
func warnProxyGaps(at caddyfile.Token) {
	f, ok := adaptedfile.Read(at)
	if !ok {
		return
	}
	_, siblings := f.Find(at)
	for _, d := range siblings {
		gaps := proxyGaps(d)
		if len(gaps) == 0 {
			continue
		}
		caddy.Log().Warn(proxyGapMessage(at, d, gaps),
			zap.String("adapter", "caddyfile"),
			zap.String("file", d.Name.File),
			zap.Int("line", d.Name.Line))
	}
}

// proxyGaps lists what d, if it is a reverse_proxy, lacks for nginx's
// header set: `header_up -Via`, and, with the http transport (the
// default), `compression off`.
func proxyGaps(d *adaptedfile.Directive) []proxyGap {
	if d.Name.Text != "reverse_proxy" {
		return nil
	}
	var gaps []proxyGap
	if !deletesVia(d) {
		gaps = append(gaps, gapVia)
	}
	switch t := d.Child("transport"); {
	case t == nil:
		gaps = append(gaps, gapGzip)
	case t.Arg(0) == "http" && !compressionOff(t):
		g := gapGzip
		g.fix = "`compression off` to its `transport http` block (line " + strconv.Itoa(t.Name.Line) + ")"
		gaps = append(gaps, g)
	}
	return gaps
}

// deletesVia reports whether the reverse_proxy block removes Via from the
// upstream request (header names are case-insensitive).
func deletesVia(rp *adaptedfile.Directive) bool {
	for _, c := range rp.Block {
		if c.Name.Text == "header_up" && strings.EqualFold(c.Arg(0), "-Via") {
			return true
		}
	}
	return false
}

// compressionOff reports whether a `transport http` block turns
// compression off.
func compressionOff(t *adaptedfile.Directive) bool {
	c := t.Child("compression")
	return c != nil && c.Arg(0) == "off"
}

// proxyGapMessage says where, what reaches the backend and what to add.
func proxyGapMessage(at caddyfile.Token, rp *adaptedfile.Directive, gaps []proxyGap) string {
	var fields, fixes []string
	for _, g := range gaps {
		fields = append(fields, g.field)
		fixes = append(fixes, g.fix)
	}
	return "header_policy nginx (" + at.File + ":" + strconv.Itoa(at.Line) + "): the reverse_proxy at " +
		rp.Name.File + ":" + strconv.Itoa(rp.Name.Line) + " lets " + strings.Join(fields, " and ") +
		" reach the backend; for exactly nginx's header set, add " + strings.Join(fixes, " and ")
}
