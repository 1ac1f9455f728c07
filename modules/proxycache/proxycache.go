// Package proxycache implements the proxy_cache HTTP handler: an RFC 9111
// shared cache in front of reverse_proxy with nginx proxy_cache_* parity
// (key, valid, methods, min_uses, bypass, no_cache, ignore_headers,
// use_stale, background_update, lock, lock_timeout, lock_age, and the
// X-Accel-Expires response field), byte ranges answered from stored
// responses, RFC 5861 stale-while-revalidate and stale-if-error, and
// RFC 9211 Cache-Status reporting.
package proxycache

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults of the handler.
const (
	defaultLockTimeout   = 5 * time.Second
	defaultLockAge       = 5 * time.Second
	defaultMaxObjectSize = 8 << 20
)

// Handler is the proxy_cache HTTP handler. Put it in front of reverse_proxy
// (the Caddyfile directive is ordered there already). Requests it can answer
// from its storage never reach the handlers after it; the others go on, and
// their responses are stored while they stream to the client.
type Handler struct {
	// StorageRaw is where entries are kept. Default: memory with its
	// defaults (zone "default").
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=http.handlers.proxy_cache.storage inline_key=module"`

	// Key is the cache key, a template of placeholders (nginx's
	// proxy_cache_key). A HEAD request is keyed as the GET it is answered
	// from. Default: the method, the scheme, the lower-cased host without
	// its port, ':' and the port of the listener the request came in on,
	// and the request URI as sent (after any rewrite), e.g.
	// "GEThttpsexample.com:443/a?b=1". Close to the template
	// "{http.request.method}{http.request.scheme}{http.request.host}:{http.request.local.port}{http.request.orig_uri}".
	// The listener's port keeps sites with one host name on different ports
	// apart; a template without it lets such sites share entries when they
	// share a zone.
	Key string `json:"key,omitempty"`

	// Valid maps status codes ("200", or "any") to a freshness lifetime
	// used when the response itself carries none (or always, when its
	// Cache-Control and Expires are ignored). nginx's proxy_cache_valid.
	Valid map[string]caddy.Duration `json:"valid,omitempty"`

	// Methods adds request methods whose responses are cached besides GET
	// and HEAD, which always are (nginx's proxy_cache_methods). Only POST may
	// be added; its request body is not part of the key.
	Methods []string `json:"methods,omitempty"`

	// MinUses is how many requests for a key it takes before a response for
	// it is stored (nginx's proxy_cache_min_uses). Default: 1.
	MinUses int `json:"min_uses,omitempty"`

	// Bypass lists matcher sets; a matching request is not answered from the
	// cache, but its response may be stored (nginx's proxy_cache_bypass).
	BypassRaw caddyhttp.RawMatcherSets `json:"bypass,omitempty" caddy:"namespace=http.matchers"`

	// NoCache lists matcher sets; the response to a matching request is
	// never stored (nginx's proxy_no_cache).
	NoCacheRaw caddyhttp.RawMatcherSets `json:"no_cache,omitempty" caddy:"namespace=http.matchers"`

	// IgnoreHeaders lists response fields whose caching meaning is ignored:
	// Cache-Control, Expires, Set-Cookie, Vary, X-Accel-Expires (nginx's
	// proxy_ignore_headers).
	// An ignored Set-Cookie lets the response be stored; the cookie itself is
	// still never stored.
	IgnoreHeaders []string `json:"ignore_headers,omitempty"`

	// UseStale lists when a stale entry is served instead of an origin
	// answer (nginx's proxy_cache_use_stale): "error" (no connection or a
	// failed exchange), "timeout", "updating" (another request is refreshing
	// the entry), and "http_500", "http_502", "http_503", "http_504",
	// "http_403", "http_404", "http_429". An entry whose response says
	// must-revalidate, proxy-revalidate, s-maxage or no-cache is never served
	// stale (unless its Cache-Control is ignored).
	UseStale []string `json:"use_stale,omitempty"`

	// BackgroundUpdate refreshes an expired entry in the background while
	// the stale entry is served, when "updating" is in use_stale (nginx's
	// proxy_cache_background_update). Responses with stale-while-revalidate
	// are refreshed this way within their window regardless.
	BackgroundUpdate bool `json:"background_update,omitempty"`

	// Lock collapses concurrent misses for one key into a single origin
	// request; the others wait for it up to LockTimeout and are then
	// answered from the cache (nginx's proxy_cache_lock).
	Lock bool `json:"lock,omitempty"`

	// LockTimeout is how long a collapsed request waits before going to the
	// origin itself, without storing the response. Default: 5s.
	LockTimeout caddy.Duration `json:"lock_timeout,omitempty"`

	// LockAge is how long the request holding the lock may take: past it,
	// one more request goes to the origin (and its response is stored),
	// taking over the lock for another LockAge (nginx's
	// proxy_cache_lock_age). Default: 5s.
	LockAge caddy.Duration `json:"lock_age,omitempty"`

	// Revalidate sends If-None-Match / If-Modified-Since to the origin when
	// an expired entry has validators, and refreshes it from a 304
	// (nginx's proxy_cache_revalidate). Default: true.
	Revalidate *bool `json:"revalidate,omitempty"`

	// MaxObjectSize is the largest body stored; bigger responses stream
	// through without being buffered. Default: 8 MiB (never more than the
	// storage can hold).
	MaxObjectSize int64 `json:"max_object_size,omitempty"`

	// CacheStatus adds the RFC 9211 Cache-Status field to responses.
	// Default: true.
	CacheStatus *bool `json:"cache_status,omitempty"`

	// CacheStatusKey adds the cache key to Cache-Status ("key="). Off by
	// default: keys can hold what clients should not see.
	CacheStatusKey bool `json:"cache_status_key,omitempty"`

	// XCacheStatus adds nginx's X-Cache-Status field ($upstream_cache_status:
	// HIT, MISS, EXPIRED, STALE, UPDATING, REVALIDATED, BYPASS). Default: true.
	XCacheStatus *bool `json:"x_cache_status,omitempty"`

	// RFC 9213 targeted cache control (CDN-Cache-Control): its fields are
	// the handler's own JSON fields.
	TargetedCacheControl

	storage         Storage
	mem             *MemoryStorage // storage, when it is a memory one
	keyParts        []keyPart      // Key compiled, or nil for the replacer
	zone            string
	valid           map[int]time.Duration
	validAny        time.Duration
	methods         map[string]bool
	bypass          caddyhttp.MatcherSets
	noCache         caddyhttp.MatcherSets
	ignoreCC        bool
	ignoreExpires   bool
	ignoreSetCookie bool
	ignoreVary      bool
	ignoreXAE       bool
	stale           staleSet
	revalidate      bool
	cacheStatus     bool
	xCacheStatus    bool
	maxObject       int64
	logger          *zap.Logger
	lastWarn        *atomic.Int64
	stats           *zoneStats
}

// staleSet is the parsed use_stale list.
type staleSet struct {
	error, timeout, updating bool
	status                   map[int]bool
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.proxy_cache",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision loads the storage and matchers and checks every option.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.lastWarn = new(atomic.Int64)
	if err := h.provisionStorage(ctx); err != nil {
		return err
	}
	if err := h.provisionValid(); err != nil {
		return err
	}
	if err := h.provisionMethods(); err != nil {
		return err
	}
	if h.MinUses < 0 {
		return fmt.Errorf("min_uses must be at least 1")
	}
	if err := loadMatchers(ctx, h, "BypassRaw", h.BypassRaw, &h.bypass, "bypass"); err != nil {
		return err
	}
	if err := loadMatchers(ctx, h, "NoCacheRaw", h.NoCacheRaw, &h.noCache, "no_cache"); err != nil {
		return err
	}
	if err := h.provisionIgnoreHeaders(); err != nil {
		return err
	}
	var err error
	if h.stale, err = parseUseStale(h.UseStale); err != nil {
		return err
	}
	if err := h.provisionLocks(); err != nil {
		return err
	}
	if err := h.TargetedCacheControl.provision(); err != nil {
		return err
	}
	h.revalidate = caddyopt.BoolOr(h.Revalidate, true)
	h.cacheStatus = caddyopt.BoolOr(h.CacheStatus, true)
	h.xCacheStatus = caddyopt.BoolOr(h.XCacheStatus, true)
	if err := h.provisionMaxObject(); err != nil {
		return err
	}
	if err := h.provisionKey(); err != nil {
		return err
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	h.stats = register(h)
	return nil
}

// provisionStorage loads the storage module (memory when none is given)
// and names its zone.
func (h *Handler) provisionStorage(ctx caddy.Context) error {
	if h.StorageRaw == nil {
		h.StorageRaw = json.RawMessage(`{"module":"memory"}`)
	}
	mod, err := ctx.LoadModule(h, "StorageRaw")
	if err != nil {
		return fmt.Errorf("loading storage: %v", err)
	}
	st, ok := mod.(Storage)
	if !ok {
		return fmt.Errorf("storage module %T is not a proxy_cache storage", mod)
	}
	h.storage = st
	h.mem, _ = mod.(*MemoryStorage)
	if z, ok := mod.(interface{ zoneID() string }); ok {
		h.zone = z.zoneID()
	} else {
		h.zone = fmt.Sprintf("%T", mod)
	}
	return nil
}

// provisionValid reads the valid times by status code; code "any" is
// validAny (-1 when not given).
func (h *Handler) provisionValid() error {
	h.valid = map[int]time.Duration{}
	h.validAny = -1
	for code, d := range h.Valid {
		if d < 0 {
			return fmt.Errorf("valid %s: negative time", code)
		}
		n, err := parseValidCode(code)
		if err != nil {
			return err
		}
		if n == 0 {
			h.validAny = time.Duration(d)
			continue
		}
		h.valid[n] = time.Duration(d)
	}
	return nil
}

// provisionMethods is the set of cacheable methods: GET, HEAD and Methods.
func (h *Handler) provisionMethods() error {
	h.methods = map[string]bool{http.MethodGet: true, http.MethodHead: true}
	for _, m := range h.Methods {
		u, err := cacheableMethod(m)
		if err != nil {
			return err
		}
		h.methods[u] = true
	}
	return nil
}

// loadMatchers loads the matcher sets of the handler's field (raw is its
// value) into sets; what names the option in the error.
func loadMatchers(ctx caddy.Context, h *Handler, field string, raw caddyhttp.RawMatcherSets, sets *caddyhttp.MatcherSets, what string) error {
	if raw == nil {
		return nil
	}
	m, err := ctx.LoadModule(h, field)
	if err != nil {
		return fmt.Errorf("loading %s matchers: %v", what, err)
	}
	return sets.FromInterface(m)
}

// provisionIgnoreHeaders turns ignore_headers into the ignore flags.
func (h *Handler) provisionIgnoreHeaders() error {
	for _, f := range h.IgnoreHeaders {
		name, err := ignorableField(f)
		if err != nil {
			return err
		}
		switch name {
		case "Cache-Control":
			h.ignoreCC = true
		case "Expires":
			h.ignoreExpires = true
		case "Set-Cookie":
			h.ignoreSetCookie = true
		case "Vary":
			h.ignoreVary = true
		case accelExpires:
			h.ignoreXAE = true
		}
	}
	return nil
}

// provisionLocks checks lock_timeout and lock_age and fills in their
// defaults.
func (h *Handler) provisionLocks() error {
	if h.LockTimeout < 0 {
		return fmt.Errorf("lock_timeout must not be negative")
	}
	if h.LockTimeout == 0 {
		h.LockTimeout = caddy.Duration(defaultLockTimeout)
	}
	if h.LockAge < 0 {
		return fmt.Errorf("lock_age must not be negative")
	}
	if h.LockAge == 0 {
		h.LockAge = caddy.Duration(defaultLockAge)
	}
	return nil
}

// provisionMaxObject is the largest body cached: max_object_size (default
// defaultMaxObjectSize), at most what the storage holds.
func (h *Handler) provisionMaxObject() error {
	if h.MaxObjectSize < 0 {
		return fmt.Errorf("max_object_size must not be negative")
	}
	h.maxObject = h.MaxObjectSize
	if h.maxObject == 0 {
		h.maxObject = defaultMaxObjectSize
	}
	if sm := h.storage.MaxObjectSize(); sm > 0 && h.maxObject > sm {
		h.maxObject = sm
	}
	return nil
}

// provisionKey checks the cache key and compiles it when it can be.
func (h *Handler) provisionKey() error {
	if err := checkKey(h.Key); err != nil {
		return err
	}
	h.keyParts = nil
	if h.Key != "" {
		if parts, ok := compileKey(h.Key); ok {
			h.keyParts = parts
		}
	}
	return nil
}

// Cleanup removes the handler from the live zones.
func (h *Handler) Cleanup() error {
	if h.stats != nil {
		unregister(h)
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddy.Provisioner           = (*MemoryStorage)(nil)
	_ caddy.CleanerUpper          = (*MemoryStorage)(nil)
	_ Storage                     = (*MemoryStorage)(nil)
)
