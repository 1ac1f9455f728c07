package proxycache

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/ascii"
)

// Cache keys are built on every request, so the common cases are built
// into a caller's (stack) buffer without going through the replacer: the
// default key, and key templates made only of literal text and the
// placeholders below. Anything else goes through caddy.Replacer as before.

// keyPartKind is one piece of a compiled key template.
type keyPartKind uint8

const (
	keyLiteral   keyPartKind = iota
	keyMethod                // {http.request.method} (HEAD keyed as GET)
	keyScheme                // {http.request.scheme}
	keyHost                  // {http.request.host}: Host without the port, as Caddy's replacer
	keyHostport              // {http.request.hostport}
	keyOrigURI               // {http.request.orig_uri}
	keyURIPath               // {http.request.uri.path}
	keyURIQuery              // {http.request.uri.query}
	keyLocalPort             // {http.request.local.port}: the port the request came in on
)

var keyPlaceholders = map[string]keyPartKind{
	"http.request.method":     keyMethod,
	"http.request.scheme":     keyScheme,
	"http.request.host":       keyHost,
	"http.request.hostport":   keyHostport,
	"http.request.orig_uri":   keyOrigURI,
	"http.request.uri.path":   keyURIPath,
	"http.request.uri.query":  keyURIQuery,
	"http.request.local.port": keyLocalPort,
}

type keyPart struct {
	kind keyPartKind
	lit  string
}

// compileKey turns a key template into parts, or returns false when the
// template uses anything but literal text and the placeholders above (then
// the replacer evaluates it).
func compileKey(tmpl string) ([]keyPart, bool) {
	var parts []keyPart
	for s := tmpl; s != ""; {
		i := strings.IndexAny(s, "{}\\")
		if i < 0 {
			parts = append(parts, keyPart{kind: keyLiteral, lit: s})
			break
		}
		if s[i] != '{' {
			return nil, false // escapes and stray braces: leave them to the replacer
		}
		if i > 0 {
			parts = append(parts, keyPart{kind: keyLiteral, lit: s[:i]})
		}
		s = s[i+1:]
		end := strings.IndexAny(s, "{}\\")
		if end < 0 || s[end] != '}' {
			return nil, false
		}
		kind, ok := keyPlaceholders[s[:end]]
		if !ok {
			return nil, false
		}
		parts = append(parts, keyPart{kind: kind})
		s = s[end+1:]
	}
	return parts, true
}

// keyString is the key buildKey returned, as a string.
func keyString(b []byte, s string, isStr bool) string {
	if isStr {
		return s
	}
	return string(b)
}

// buildKey computes the key for r, keying HEAD as GET: into dst (b) when
// it can, or as a string (s, isStr) from the replacer.
func (h *Handler) buildKey(r *http.Request, dst []byte) (b []byte, s string, isStr bool) {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if h.Key != "" {
		if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
			if h.keyParts == nil {
				return nil, h.replaceKey(repl, r, method), true
			}
			return h.appendCompiledKey(dst, r, method), "", false
		}
	}
	return h.appendDefaultKey(dst, r, method), "", false
}

// appendDefaultKey appends the default key: method, scheme, the lower-cased
// host without its port, ':' and the port of the listener the request came
// in on, and the request URI. The listener's port, not the Host's, keeps
// two sites with one host name on different ports apart: Caddy routes by
// the listener, and a Host port is whatever the client wrote.
func (h *Handler) appendDefaultKey(dst []byte, r *http.Request, method string) []byte {
	dst = append(dst, method...)
	dst = append(dst, scheme(r)...)
	host := len(dst)
	dst = appendHostname(dst, r.Host)
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if bytes.IndexByte(dst[host:], ':') >= 0 { // an IPv6 literal: bracket it again
			dst = append(dst[:host], append([]byte{'['}, append(dst[host:], ']')...)...)
		}
		dst = append(dst, ':')
		if port, isIP := ipPort(a); isIP {
			dst = strconv.AppendInt(dst, int64(port), 10)
		} else {
			dst = append(dst, a.String()...) // a Unix socket: its path
		}
	}
	return append(dst, r.RequestURI...)
}

// ipPort is the port of a TCP (HTTP/1, HTTP/2) or UDP (HTTP/3) listener.
func ipPort(a net.Addr) (int, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.Port, true
	case *net.UDPAddr:
		return a.Port, true
	}
	return 0, false
}

// appendLocalPort appends {http.request.local.port} as Caddy's replacer
// gives it: the listener's port, or nothing for a Unix socket.
func appendLocalPort(dst []byte, r *http.Request) []byte {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return dst
	}
	if port, isIP := ipPort(a); isIP {
		return strconv.AppendInt(dst, int64(port), 10)
	}
	_, port, _ := net.SplitHostPort(a.String())
	return append(dst, port...)
}

// replaceKey evaluates the key template with the replacer.
func (h *Handler) replaceKey(repl *caddy.Replacer, r *http.Request, method string) string {
	if method != r.Method {
		orig := r.Method
		r.Method = method
		defer func() { r.Method = orig }()
	}
	return repl.ReplaceAll(h.Key, "")
}

// appendCompiledKey appends the compiled template's value for r, as the
// replacer would compute it.
func (h *Handler) appendCompiledKey(dst []byte, r *http.Request, method string) []byte {
	for _, p := range h.keyParts {
		switch p.kind {
		case keyLiteral:
			dst = append(dst, p.lit...)
		case keyMethod:
			dst = append(dst, method...)
		case keyScheme:
			dst = append(dst, scheme(r)...)
		case keyHost:
			host := r.Host
			if strings.IndexByte(host, ':') >= 0 {
				if hh, _, err := net.SplitHostPort(host); err == nil {
					host = hh
				}
			}
			dst = append(dst, host...)
		case keyHostport:
			dst = append(dst, r.Host...)
		case keyOrigURI:
			or, _ := r.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request)
			dst = append(dst, or.RequestURI...)
		case keyURIPath:
			dst = append(dst, r.URL.Path...)
		case keyURIQuery:
			dst = append(dst, r.URL.RawQuery...)
		case keyLocalPort:
			dst = appendLocalPort(dst, r)
		}
	}
	return dst
}

// appendHostname appends nginx's $host: the lower-cased Host without its
// port (as hostname does, without allocating for the usual hosts).
func appendHostname(dst []byte, h string) []byte {
	if strings.IndexByte(h, ':') >= 0 {
		// SplitHostPort fails (allocating its error) only for hosts with
		// no port, which have no colon; IPv6 literals and host:port get here.
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
	}
	for i := 0; i < len(h); i++ {
		if h[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(h)...)
		}
	}
	for i := 0; i < len(h); i++ {
		dst = append(dst, ascii.ToLower(h[i]))
	}
	return dst
}
