// Package headerpolicy implements the header_policy HTTP handler: one place that
// decides what a backend sees about the client (Host, X-Real-IP, X-Forwarded-*,
// Forwarded, a request ID) and which upstream response headers the client never
// sees. Forwarding headers sent by a client are believed only when the
// connection comes from a trusted proxy; otherwise they are replaced.
package headerpolicy

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
	"github.com/frontdesk-proxy/frontdesk/modules/internal/httpsyntax"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Header field names the policy owns.
const (
	hdrRealIP         = "X-Real-Ip"
	hdrForwardedFor   = "X-Forwarded-For"
	hdrForwardedProto = "X-Forwarded-Proto"
	hdrForwardedHost  = "X-Forwarded-Host"
	hdrForwarded      = "Forwarded"
)

// Handler is the header_policy HTTP handler. Put it before reverse_proxy (the
// Caddyfile directive is ordered there already). It rewrites the request's
// forwarding headers according to the policy and removes hidden headers from the
// response.
//
// The X-Forwarded-For chain itself is completed by reverse_proxy, which appends
// the connecting peer's address; header_policy tells it whether the incoming
// chain is to be kept (trusted peer) or dropped (anyone else), so the two never
// disagree about who is trusted.
type Handler struct {
	// Preset fills every option that is not set explicitly. "nginx" reproduces
	// the classic nginx proxy block: Host is the request's host name without
	// port (nginx's $host), X-Real-IP is the client address, X-Forwarded-For and
	// X-Forwarded-Proto are set, X-Forwarded-Host is not sent, and the upstream's
	// Server and X-Powered-By response headers are hidden. Empty means no preset.
	Preset string `json:"preset,omitempty"`

	// TrustedProxies lists the IP ranges (CIDR or single addresses) whose
	// forwarding headers are believed and extended. The word "private_ranges"
	// stands for every private and loopback range. From any other peer, the
	// client-sent X-Real-IP, X-Forwarded-*, Forwarded and request ID headers are
	// replaced. Default: none (nobody is trusted).
	TrustedProxies []string `json:"trusted_proxies,omitempty"`

	// HostHeader says what the upstream request's Host is: "client" passes the
	// client's Host through unchanged (Caddy's default), "hostname" sends the
	// lower-cased host name without its port (nginx's $host). Default: "client",
	// or the preset's.
	HostHeader string `json:"host_header,omitempty"`

	// RealIP sends X-Real-IP with the client's address (or, from a trusted
	// proxy, the X-Real-IP it sent). When false, a client-sent X-Real-IP is
	// removed unless it comes from a trusted proxy. Default: true.
	RealIP *bool `json:"real_ip,omitempty"`

	// ForwardedHost sends X-Forwarded-Host with the client's Host (or, from a
	// trusted proxy, the one it sent). When false, no X-Forwarded-Host reaches
	// the upstream at all. Default: true, false with the nginx preset.
	ForwardedHost *bool `json:"x_forwarded_host,omitempty"`

	// Forwarded sends the RFC 7239 Forwarded header ("for", "proto", "host"),
	// appended to the incoming one from a trusted proxy.
	Forwarded bool `json:"forwarded,omitempty"`

	// RequestID names a header that carries a request ID to the upstream and
	// back to the client (for example X-Request-ID). A trusted proxy's ID is
	// propagated; otherwise a fresh one is made (Caddy's {http.request.uuid}).
	// The ID is also available as the placeholder {http.vars.request_id}.
	RequestID string `json:"request_id,omitempty"`

	// Hide lists upstream response headers that never reach the client
	// (nginx's proxy_hide_header). Default: the preset's list.
	Hide []string `json:"hide,omitempty"`

	// Request holds plain header operations (set, add, delete, replace) on the
	// upstream request, applied after the policy; placeholders are allowed.
	Request *headers.HeaderOps `json:"request,omitempty"`

	trusted        []netip.Prefix
	hide           []string
	hostName       bool
	realIP         bool
	fwdHost        bool
	owned          []string // fields a Connection header may not take away
	ownedTemplated []string // the same, with placeholders in their names
	metrics        *policyMetrics
	logger         *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.header_policy",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision resolves the preset and the trusted ranges.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()

	p, err := lookupPreset(h.Preset)
	if err != nil {
		return err
	}
	h.hostName = p.hostName
	switch h.HostHeader {
	case "":
	case hostClient:
		h.hostName = false
	case hostHostname:
		h.hostName = true
	default:
		return fmt.Errorf("host_header: unknown value %q (want %q or %q)", h.HostHeader, hostClient, hostHostname)
	}
	h.realIP = caddyopt.BoolOr(h.RealIP, true)
	h.fwdHost = caddyopt.BoolOr(h.ForwardedHost, p.forwardedHost)
	h.hide = canonicalNames(p.hide)
	if h.Hide != nil {
		h.hide = canonicalNames(h.Hide)
	}
	if h.RequestID != "" {
		h.RequestID = http.CanonicalHeaderKey(h.RequestID)
	}

	h.trusted, err = parseTrustedProxies(h.TrustedProxies)
	if err != nil {
		return err
	}
	if err := h.Request.Provision(ctx); err != nil {
		return fmt.Errorf("request header operations: %w", err)
	}
	h.owned, h.ownedTemplated = h.ownedFields()
	h.metrics, err = registerMetrics(ctx.GetMetricsRegistry())
	if err != nil {
		return err
	}
	return nil
}

// Validate checks the field names the policy is given.
func (h *Handler) Validate() error {
	for _, name := range append(append([]string{}, h.Hide...), h.RequestID) {
		if name != "" && !validFieldName(name) {
			return fmt.Errorf("invalid header field name %q", name)
		}
	}
	return nil
}

// ServeHTTP applies the policy to r and, if anything is to be hidden or echoed,
// to the response.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	peer := h.trust(r)
	in := scanIncoming(r.Header, peer.trusted)
	if !peer.trusted && in&spoofableFields != 0 {
		h.countSpoofed(in)
	}
	if in&inConnection != 0 {
		h.claimNominated(r)
	}

	// reverse_proxy reads this to decide whether the incoming X-Forwarded-*
	// values are kept; header_policy is the authority on that for the request.
	caddyhttp.SetVar(r.Context(), caddyhttp.TrustedProxyVarKey, peer.trusted)

	st := new(requestState)
	h.setForwardingFields(r, peer, in, &st.vals)
	requestID := h.setRequestID(r, peer.trusted)
	if h.Request != nil {
		h.Request.ApplyToRequest(r)
	}

	if len(h.hide) > 0 || requestID != "" {
		st.filter = responseFilter{
			ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w},
			hide:                  h.hide,
			idField:               h.RequestID,
			id:                    requestID,
		}
		w = &st.filter
	}
	return next.ServeHTTP(w, r)
}

// requestState is what ServeHTTP allocates for a request, in one allocation:
// the backing array of the request field values set on nearly every request
// (X-Real-IP, X-Forwarded-Proto) and the response filter.
type requestState struct {
	vals   [2]string
	filter responseFilter
}

// peerInfo is what the handler knows about the connection's remote end.
type peerInfo struct {
	addr    netip.Addr
	text    string // addr.String()
	ok      bool   // addr is known: false for a Unix socket
	trusted bool
}

// trust reads the peer's address and whether it is a trusted proxy. A peer
// without an IP (a Unix socket) is trusted only if the server's
// trusted_proxies_unix said so.
func (h *Handler) trust(r *http.Request) peerInfo {
	var p peerInfo
	p.addr, p.text, p.ok = parsePeer(r.RemoteAddr)
	if p.ok {
		p.trusted = h.isTrusted(p.addr)
	} else {
		p.trusted, _ = caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool)
	}
	return p
}

// setForwardingFields sets X-Real-IP, X-Forwarded-For/-Proto/-Host,
// Forwarded and Host as the policy says, from the peer and, where the peer
// is trusted, from what it sent. vals backs the values of X-Real-IP and
// X-Forwarded-Proto; each slice is capped at its own element, so an append
// to either copies rather than overwrites the other.
func (h *Handler) setForwardingFields(r *http.Request, peer peerInfo, in incomingFields, vals *[2]string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	clientHost := r.Host
	trusted := peer.trusted

	switch {
	case trusted && in&inRealIP != 0 && validIP(lastValue(r.Header, hdrRealIP)):
		vals[0] = lastValue(r.Header, hdrRealIP)
		r.Header[hdrRealIP] = vals[0:1:1]
	case h.realIP && peer.ok:
		vals[0] = peer.text
		r.Header[hdrRealIP] = vals[0:1:1]
	case in&inRealIP != 0:
		delete(r.Header, hdrRealIP)
	}

	// X-Forwarded-For: reverse_proxy appends the peer; only a trusted peer's
	// chain survives.
	if !trusted && in&inForwardedFor != 0 {
		delete(r.Header, hdrForwardedFor)
	}

	// X-Forwarded-Proto: a trusted peer's value, if sane, else our scheme.
	// reverse_proxy reads the last value, so that is the one checked, and the
	// only one kept.
	vals[1] = scheme
	if trusted && in&inForwardedProto != 0 {
		if p := lastValue(r.Header, hdrForwardedProto); p == "http" || p == "https" {
			vals[1] = p
		}
	}
	r.Header[hdrForwardedProto] = vals[1:2:2]

	// X-Forwarded-Host: a nil value tells reverse_proxy to omit it. As with
	// X-Forwarded-Proto, the last value is the one reverse_proxy keeps.
	switch {
	case !h.fwdHost:
		r.Header[hdrForwardedHost] = nil
	case !trusted || in&inForwardedHost == 0 || lastValue(r.Header, hdrForwardedHost) == "":
		r.Header[hdrForwardedHost] = []string{clientHost}
	default:
		r.Header[hdrForwardedHost] = []string{lastValue(r.Header, hdrForwardedHost)}
	}

	h.applyForwarded(r, peer, in, scheme, clientHost)

	if h.hostName {
		r.Host = hostnameOnly(r.Host)
	}
}

// setRequestID sets the request ID field, keeping a trusted peer's valid ID
// and making one otherwise, and returns it ("" without the option).
func (h *Handler) setRequestID(r *http.Request, trusted bool) string {
	if h.RequestID == "" {
		return ""
	}
	requestID := r.Header.Get(h.RequestID)
	if !trusted || !validRequestID(requestID) {
		repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		requestID = repl.ReplaceAll("{http.request.uuid}", "")
	}
	r.Header[h.RequestID] = []string{requestID}
	caddyhttp.SetVar(r.Context(), "request_id", requestID)
	return requestID
}

// applyForwarded sets or extends the RFC 7239 Forwarded header. Without the
// option, an untrusted client's Forwarded header is removed; a trusted proxy's
// is passed on unchanged.
func (h *Handler) applyForwarded(r *http.Request, peer peerInfo, in incomingFields, scheme, host string) {
	var incoming string
	if peer.trusted && in&inForwarded != 0 {
		incoming = strings.Join(r.Header[hdrForwarded], ", ")
	}
	if incoming != "" {
		if _, err := ParseForwarded(incoming); err != nil {
			h.logger.Warn("dropping malformed Forwarded header from trusted proxy",
				zap.String("peer", peer.addr.String()), zap.String("value", incoming), zap.Error(err))
			incoming = ""
		}
	}
	if !h.Forwarded {
		if incoming != "" {
			r.Header[hdrForwarded] = []string{incoming}
		} else if in&inForwarded != 0 {
			delete(r.Header, hdrForwarded)
		}
		return
	}
	node := "unknown"
	if peer.ok {
		node = forwardedNode(peer.addr)
	}
	el := ForwardedElement{{Name: "for", Value: node}, {Name: "proto", Value: scheme}, {Name: "host", Value: host}}
	value := el.String()
	if incoming != "" {
		value = incoming + ", " + value
	}
	r.Header[hdrForwarded] = []string{value}
}

func (h *Handler) isTrusted(ip netip.Addr) bool {
	for _, p := range h.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// countSpoofed counts forwarding headers an untrusted client tried to set.
func (h *Handler) countSpoofed(in incomingFields) {
	for _, f := range spoofable {
		if in&f.bit != 0 {
			h.metrics.replaced.WithLabelValues(f.name).Inc()
		}
	}
}

// peerAddr returns the IP of the connection's remote end.
func peerAddr(remoteAddr string) (netip.Addr, bool) {
	ip, _, ok := parsePeer(remoteAddr)
	return ip, ok
}

// parsePeer returns the IP of the connection's remote end and its text,
// ip.String(). A plain IPv4 address is spelled one way only (netip rejects
// leading zeros), so its text is taken from remoteAddr without an
// allocation.
func parsePeer(remoteAddr string) (ip netip.Addr, text string, ok bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err = netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, "", false
	}
	if ip.Is4() {
		return ip, host, true
	}
	ip = ip.WithZone("").Unmap()
	return ip, ip.String(), true
}

// hostnameOnly is nginx's $host: the Host without port, lower-cased.
func hostnameOnly(host string) string {
	if h, ok := plainHostname(host); ok {
		return h
	}
	return splitHostname(host)
}

// splitHostname is hostnameOnly for any Host.
func splitHostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		host = h
	}
	return strings.ToLower(host)
}

// plainHostname is hostnameOnly's answer for the usual Host, found in one
// pass without allocating: a lower-case ASCII name or IPv4 address, with or
// without a port, and no brackets. ok is false for any other Host.
func plainHostname(host string) (name string, ok bool) {
	colon := -1
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case c == ':':
			if colon >= 0 {
				return "", false
			}
			colon = i
		case c == '[' || c == ']' || c >= 0x80 || ('A' <= c && c <= 'Z'):
			return "", false
		}
	}
	if colon < 0 {
		return host, true
	}
	return host[:colon], true
}

// lastValue is the last value of a header field, as reverse_proxy reads it.
func lastValue(hdr http.Header, name string) string {
	if v := hdr[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// validIP accepts an IP address without a zone.
func validIP(s string) bool {
	ip, err := netip.ParseAddr(s)
	return err == nil && ip.Zone() == ""
}

// validRequestID accepts 1 to 200 visible ASCII characters without separators
// that could split a log line or a header list.
func validRequestID(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ',' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !httpsyntax.IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func canonicalNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, http.CanonicalHeaderKey(n))
	}
	return out
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
