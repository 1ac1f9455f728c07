package caddyopt

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// RegisterHandlerDirective registers a Frontdesk handler directive for the
// Caddyfile, ordered just before reverse_proxy, where every Frontdesk
// handler goes. Among themselves such directives keep the order in which
// they are registered: the one registered last is nearest reverse_proxy
// (packages' init functions run in import-path order).
func RegisterHandlerDirective(name string, parse httpcaddyfile.UnmarshalHandlerFunc) {
	httpcaddyfile.RegisterHandlerDirective(name, parse)
	httpcaddyfile.RegisterDirectiveOrder(name, httpcaddyfile.Before, "reverse_proxy")
}

// ParseHandler is the Caddyfile parser of a handler directive whose handler
// type T reads all its own tokens (a *T is a caddyfile.Unmarshaler).
func ParseHandler[T any, P interface {
	*T
	caddyfile.Unmarshaler
	caddyhttp.MiddlewareHandler
}](h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := P(new(T))
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}
