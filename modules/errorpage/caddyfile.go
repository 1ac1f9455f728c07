package errorpage

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterDirective("error_page", parseCaddyfile)
}

// parseCaddyfile turns the error_page directive into an error route of the
// site, as handle_errors does, holding the error_page handler behind a
// status matcher. Syntax:
//
//	error_page [<status|4xx|5xx>...] {
//	    body <text>
//	    content_type <type>
//	}
//
// Without statuses it answers every error.
func parseCaddyfile(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
	h.Next() // directive name
	codes, classes, err := statusCodes(h.RemainingArgs())
	if err != nil {
		return nil, h.Errf("error_page: %v", err)
	}
	page := new(Handler)
	if err := page.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	route := caddyhttp.Route{
		HandlersRaw: []json.RawMessage{caddyconfig.JSONModuleObject(page, "handler", "error_page", nil)},
	}
	if expr := statusExpression(codes, classes); expr != "" {
		route.MatcherSetsRaw = []caddy.ModuleMap{{
			"expression": h.JSON(caddyhttp.MatchExpression{Expr: expr}),
		}}
	}
	return []httpcaddyfile.ConfigValue{{
		Class: "error_route",
		Value: &caddyhttp.Subroute{Routes: caddyhttp.RouteList{route}},
	}}, nil
}

// UnmarshalCaddyfile reads error_page's block (the statuses are the
// directive's, read by parseCaddyfile).
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	for d.NextBlock(0) {
		opt := d.Val()
		if !d.NextArg() {
			return d.Errf("error_page: %s needs a value", opt)
		}
		val := d.Val()
		if d.NextArg() {
			return d.Errf("error_page: %s takes one value (quote it if it has spaces)", opt)
		}
		switch opt {
		case "body":
			h.Body = val
		case "content_type":
			h.ContentType = val
		default:
			return d.Errf("error_page: unknown option %q (want body or content_type)", opt)
		}
	}
	return nil
}

// statusExpression is the CEL expression matching the given statuses and
// classes, "" for every status; the same form handle_errors writes.
func statusExpression(codes, classes []int) string {
	var terms []string
	for _, c := range classes {
		terms = append(terms, fmt.Sprintf("{http.error.status_code} >= %d00 && {http.error.status_code} <= %d99", c, c))
	}
	if len(codes) > 0 {
		s := make([]string, len(codes))
		for i, c := range codes {
			s[i] = strconv.Itoa(c)
		}
		terms = append(terms, "{http.error.status_code} in ["+strings.Join(s, ", ")+"]")
	}
	return strings.Join(terms, " || ")
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
