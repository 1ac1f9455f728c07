package proxycache

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// call is one request's trip through the cache.
type call struct {
	h     *Handler
	w     http.ResponseWriter
	r     *http.Request
	next  caddyhttp.Handler
	key   string
	url   string
	reqCC directives

	stale        *Entry // the stored entry being refreshed, if any
	revalidating bool   // our own validators went to the origin
	storeOK      bool   // the response may be stored
	background   bool
	reqTime      time.Time
	out          outcome
	notStored    string
}

// keyBufSize is the stack buffer a request's cache key is built in.
const keyBufSize = 256

// ServeHTTP answers from storage when it can and otherwise fetches from the
// next handler, storing the response while it streams to the client.
//
// A fresh hit is answered without building a call: the key is built on the
// stack, the clock is read once, and the stored entry's precomputed header
// layout is copied into the response's own header map.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if !h.methods[r.Method] {
		if !safeMethod(r.Method) {
			return h.serveUnsafe(w, r, next)
		}
		return next.ServeHTTP(w, r)
	}
	if field(r.Header, "Upgrade") != "" {
		return next.ServeHTTP(w, r)
	}
	var kb [keyBufSize]byte
	kbytes, kstr, isStr := h.buildKey(r, kb[:0])
	reqCC := parseCacheControl(r.Header["Cache-Control"])

	if m, err := h.bypass.AnyMatchWithError(r); err != nil {
		return err
	} else if m && len(h.bypass) > 0 {
		c := h.newCall(w, r, next, keyString(kbytes, kstr, isStr), reqCC, h.mayStore(r, reqCC))
		c.out = outcome{label: labelBypass, fwd: "bypass"}
		return c.fetch()
	}
	storeOK := h.mayStore(r, reqCC)

	now := time.Now()
	variants, err := h.lookup(kbytes, kstr, isStr, now)
	if err != nil {
		// Never an error for the client: the origin answers, uncached.
		h.warnStorage("storage unavailable; passing requests through uncached", err)
		c := h.newCall(w, r, next, keyString(kbytes, kstr, isStr), reqCC, false)
		c.out = outcome{label: labelMiss, fwd: "miss", detail: "storage-unavailable"}
		return c.fetch()
	}
	e, varyMiss := pickVariant(variants, r)
	if e != nil && len(reqCC) == 0 && !e.NoCache && (e.AuthOK || field(r.Header, "Authorization") == "") {
		// withEntry's first case, without the call: no request directives,
		// no forced validation, no authorization to check, and fresh.
		if ttl := e.ttl(now); ttl > 0 {
			k := ""
			if h.CacheStatusKey {
				k = keyString(kbytes, kstr, isStr)
			} else if h.stats != nil && h.stats.sampleHit() {
				h.stats.countHit(keyString(kbytes, kstr, isStr)) // writeStatus counts the keys it is given
			}
			return h.serveEntry(w, r, e, outcome{label: labelHit, hit: true, ttl: ttl, hasTTL: true}, false, now, k)
		}
	}
	c := h.newCall(w, r, next, keyString(kbytes, kstr, isStr), reqCC, storeOK)
	if e == nil {
		return c.withoutEntry(varyMiss)
	}
	if field(r.Header, "Authorization") != "" && !e.AuthOK {
		// RFC 9111 §3.5: a stored response answers an authenticated request
		// only if it says it may.
		c.out = outcome{label: labelBypass, fwd: "request", detail: "authorization"}
		return c.fetch()
	}
	return c.withEntry(e, now)
}

// lookup reads the stored variants of a key: from the memory storage or the
// redis storage's local tier without allocating, else from the storage.
func (h *Handler) lookup(kbytes []byte, kstr string, isStr bool, now time.Time) ([]*Entry, error) {
	if isStr {
		return h.storage.Get(kstr)
	}
	if h.mem != nil {
		return h.mem.getAt(kbytes, now), nil
	}
	if variants := h.localHit(kbytes, now); variants != nil {
		return variants, nil
	}
	return h.storage.Get(string(kbytes))
}

// newCall starts the trip of a request that is not a plain fresh hit;
// storeOK says whether the request allows its response to be stored.
func (h *Handler) newCall(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, key string, reqCC directives, storeOK bool) *call {
	return &call{h: h, w: w, r: r, next: next, key: key, url: requestURL(r), reqCC: reqCC, storeOK: storeOK}
}

// withoutEntry handles a request for which no stored variant matches.
func (c *call) withoutEntry(varyMiss bool) error {
	if c.reqCC.has("only-if-cached") {
		c.out = outcome{label: labelMiss, fwd: "miss", detail: "only-if-cached"}
		c.h.writeStatus(c.w.Header(), c.out, c.key)
		c.w.WriteHeader(http.StatusGatewayTimeout)
		return nil
	}
	c.out = outcome{label: labelMiss, fwd: "uri-miss"}
	if varyMiss {
		c.out.fwd = "vary-miss"
	}
	return c.miss()
}

// field is the first value of a request or response field given by its
// canonical name, as Header.Get (without canonicalizing the name again).
func field(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// mayStore applies the request-side conditions for storing.
func (h *Handler) mayStore(r *http.Request, reqCC directives) bool {
	if reqCC.has("no-store") {
		return false
	}
	if len(h.noCache) > 0 {
		if m, _ := h.noCache.AnyMatchWithError(r); m {
			return false
		}
	}
	return true
}

// withEntry handles a request for which a stored variant exists.
func (c *call) withEntry(e *Entry, now time.Time) error {
	h := c.h
	ttl := e.ttl(now)
	age := e.age(now)

	mustValidate := e.NoCache || c.reqCC.has("no-cache")
	acceptable := ttl > 0
	if d, ok, valid := c.reqCC.delta("max-age"); ok && (!valid || age > d) {
		acceptable = false
		mustValidate = true
	}
	if d, ok, valid := c.reqCC.delta("min-fresh"); ok && valid && ttl < d {
		acceptable = false
	}
	if !mustValidate && acceptable {
		return c.serve(e, outcome{label: labelHit, hit: true, ttl: ttl, hasTTL: true}, false)
	}
	staleOK := !e.MustRevalidate && !e.NoCache
	if !mustValidate && staleOK && ttl <= 0 && c.reqCC.has("max-stale") {
		if d, valid := parseDelta(c.reqCC["max-stale"]); c.reqCC["max-stale"] == "" || (valid && -ttl <= d) {
			return c.serve(e, outcome{label: labelStale, hit: true, ttl: ttl, hasTTL: true, detail: "max-stale"}, false)
		}
	}
	if c.reqCC.has("only-if-cached") {
		c.out = outcome{label: labelMiss, fwd: "stale", detail: "only-if-cached"}
		h.writeStatus(c.w.Header(), c.out, c.key)
		c.w.WriteHeader(http.StatusGatewayTimeout)
		return nil
	}

	c.stale = e
	c.out = outcome{label: labelExpired, fwd: "stale"}
	if c.reqCC.has("no-cache") || (c.reqCC.has("max-age") && ttl > 0) {
		c.out.fwd = "request"
	}
	if mustValidate || !staleOK || !c.storeOK || ttl > 0 {
		// ttl > 0: fresh, but not fresh enough for this request (min-fresh).
		return c.fetch()
	}

	return c.staleWhileUpdating(e, ttl)
}

// staleWhileUpdating refreshes a stale entry that may be served while it is
// being updated: RFC 5861 stale-while-revalidate, or nginx's use_stale
// updating (with background_update for the first request). One request
// refreshes, the others get the stale entry.
func (c *call) staleWhileUpdating(e *Entry, ttl time.Duration) error {
	h := c.h
	inSWR := e.SWR >= 0 && -ttl <= e.SWR
	if c.r.Method == http.MethodPost {
		// A refresh would need this request's body: never in the background.
		return c.fetch()
	}
	if !inSWR && !h.stale.updating {
		return c.fetch()
	}
	id := h.zone + "\x00" + c.key
	if updateFlights.busy(id) {
		return c.serve(e, outcome{label: labelUpdating, hit: true, ttl: ttl, hasTTL: true}, false)
	}
	leader, _, release := updateFlights.join(id)
	if !leader {
		return c.serve(e, outcome{label: labelUpdating, hit: true, ttl: ttl, hasTTL: true}, false)
	}
	if inSWR || h.BackgroundUpdate {
		c.startBackground(e, release)
		return c.serve(e, outcome{label: labelStale, hit: true, ttl: ttl, hasTTL: true}, false)
	}
	defer release()
	return c.fetch()
}

// miss handles a request with no usable stored variant.
func (c *call) miss() error {
	h := c.h
	if h.Lock && c.storeOK {
		release, done, err := c.lock()
		if done {
			return err
		}
		if release != nil {
			defer release()
		}
	}
	if c.storeOK && h.MinUses > 1 && !useCounts.hit(h.zone+"\x00"+c.key, h.MinUses, time.Now()) {
		c.storeOK = false
	}
	return c.fetch()
}

// lock is nginx's proxy_cache_lock for a miss. The first request for a key
// takes the lock and goes on; the others wait for it and are answered from
// the cache when it finishes. When a holder has had the lock for lock_age,
// one waiter takes it over and goes on too. A waiter that runs out of
// lock_timeout goes on without storing. done is true when the request was
// answered (or abandoned) here; release, when set, must be called once the
// origin exchange is over.
func (c *call) lock() (release func(), done bool, err error) {
	h := c.h
	id := h.zone + "\x00" + c.key
	age := time.Duration(h.LockAge)
	ok, lw, release := locks.acquire(id, age, time.Now(), nil)
	if ok {
		return release, false, nil
	}
	// woken answers from what a finished holder stored, if it can.
	woken := func() (func(), bool, error) {
		variants, err := h.storage.Get(c.key)
		if err == nil {
			now := time.Now()
			if e, _ := pickVariant(variants, c.r); e != nil && !e.NoCache && e.ttl(now) > 0 &&
				(c.r.Header.Get("Authorization") == "" || e.AuthOK) {
				return nil, true, c.serve(e, outcome{label: labelHit, hit: true, collapsed: true, ttl: e.ttl(now), hasTTL: true}, false)
			}
		}
		// The holder stored nothing usable: go on, unlocked.
		c.out.collapsed = true
		return nil, false, nil
	}
	timeout := time.NewTimer(time.Duration(h.LockTimeout))
	defer timeout.Stop()
	for {
		ageTimer := time.NewTimer(time.Until(lw.until))
		select {
		case <-lw.wake:
			ageTimer.Stop()
			return woken()
		case <-ageTimer.C:
			// nginx's proxy_cache_lock_age: the holder is slow, one more
			// request goes to the origin (and stores its answer).
			if ok, lw, release = locks.acquire(id, age, time.Now(), lw.wake); ok {
				c.out.collapsed = true
				c.out.detail = "lock-age"
				return release, false, nil
			}
		case <-timeout.C:
			ageTimer.Stop()
			// nginx: past the lock timeout the request goes to the origin
			// and its response is not stored.
			c.storeOK = false
			c.out.detail = "lock-timeout"
			return nil, false, nil
		case <-c.r.Context().Done():
			ageTimer.Stop()
			// The client went away while waiting (reverse_proxy's 499).
			return nil, true, caddyhttp.Error(499, c.r.Context().Err())
		}
	}
}

// fetch asks the next handler (the origin), streaming and storing its
// answer, or falling back to the stale entry as configured.
func (c *call) fetch() error {
	h := c.h
	r2 := c.originRequest(c.r.Context())
	c.reqTime = time.Now()
	f := &fetchWriter{c: c, rw: c.w, hdr: make(http.Header), limit: h.maxObject}
	err := c.next.ServeHTTP(f, r2)
	return c.finish(f, err)
}

// originRequest is the request sent on: HEAD becomes GET when the answer is
// to be stored (nginx's proxy_cache_convert_head), the client's own
// conditionals are removed (the cache answers them), and the stale entry's
// validators are added.
func (c *call) originRequest(ctx context.Context) *http.Request {
	r2 := c.r.Clone(ctx)
	if !c.storeOK {
		return r2
	}
	if r2.Method == http.MethodHead {
		r2.Method = http.MethodGet
	}
	// As nginx does when caching: the whole response is fetched (and
	// stored), and the cache answers the client's Range and conditionals.
	for _, f := range []string{"If-None-Match", "If-Modified-Since", "If-Range", "Range"} {
		r2.Header.Del(f)
	}
	if c.stale != nil && c.h.revalidate {
		if etag, lm, ok := c.stale.validators(); ok {
			if etag != "" {
				r2.Header.Set("If-None-Match", etag)
			}
			if lm != "" {
				r2.Header.Set("If-Modified-Since", lm)
			}
			c.revalidating = true
		}
	}
	return r2
}

// finish completes a fetch once the next handler has returned.
func (c *call) finish(f *fetchWriter, err error) error {
	h := c.h
	switch {
	case f.wroteHeader && f.mode == modeCapture:
		e, storable := h.refreshed(c.r, c.stale, f.hdr, c.reqTime, f.respTime)
		if storable {
			c.put(e)
		}
		if c.background {
			return nil
		}
		o := outcome{label: labelRevalidated, fwd: "stale", fwdStatus: http.StatusNotModified, stored: storable}
		if c.out.fwd == "request" {
			o.fwd = "request"
		}
		return c.serve(e, o, true)

	case f.wroteHeader && f.mode == modeDiscard:
		if c.background {
			return nil
		}
		return c.serve(c.stale, outcome{label: labelStale, hit: true, fwd: "stale", fwdStatus: f.status,
			ttl: c.stale.ttl(time.Now()), hasTTL: true}, false)

	case err != nil && !f.wroteHeader:
		if c.background {
			return err
		}
		if c.stale != nil && h.staleOnError(c.stale, err, time.Now()) {
			return c.serve(c.stale, outcome{label: labelStale, hit: true, fwd: "stale",
				ttl: c.stale.ttl(time.Now()), hasTTL: true, detail: "error"}, false)
		}
		h.writeStatus(c.w.Header(), c.out, c.key)
		return err
	}
	f.finishTrailers()
	if err == nil && f.entry != nil && f.mode == modeTee && !f.overflow {
		body := f.buf.Bytes()
		if cl := f.hdr.Get("Content-Length"); cl != "" {
			if n, perr := strconv.Atoi(cl); perr != nil || n != len(body) {
				return nil // truncated or inconsistent: not stored
			}
		}
		e := f.entry
		e.Body = body
		e.computeSize()
		c.put(e)
	}
	return err
}

func (c *call) put(e *Entry) {
	err := c.h.storage.Put(e)
	if err == nil {
		if c.h.stats != nil {
			c.h.stats.stored.Add(1)
		}
		return
	}
	if !errors.Is(err, ErrTooLarge) {
		c.h.warnStorage("storing a response failed", err)
	}
}

// storageWarnEvery spaces out warnings about a failing storage.
const storageWarnEvery = 10 * time.Second

// warnStorage logs a storage failure, at most once per storageWarnEvery.
// Storages that log their own failures once per episode (disk, redis) get
// no second line here.
func (h *Handler) warnStorage(msg string, err error, fields ...zap.Field) {
	if _, ok := h.storage.(faultReporter); ok {
		return
	}
	now := time.Now().UnixNano()
	last := h.lastWarn.Load()
	if now-last < int64(storageWarnEvery) || !h.lastWarn.CompareAndSwap(last, now) {
		return
	}
	h.logger.Warn(msg, append(fields, zap.String("zone", h.zone), zap.Error(err))...)
}

// detachedRequest is a copy of the client's request for a background update:
// not cancelled with the client's, with a replacer and variables of its own
// (so the client's request goes on being logged while this one runs),
// prepared as Caddy's server prepares a request. The copy keeps the client's
// variables and original request, and the request as it is now.
func detachedRequest(r *http.Request) *http.Request {
	ctx := context.WithoutCancel(r.Context())
	srv, _ := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	cur := r.Clone(ctx)
	base := *cur
	if orig, ok := ctx.Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok {
		// PrepareRequest records its argument as the original request.
		base.Method, base.URL, base.RequestURI, base.RemoteAddr = orig.Method, orig.URL, orig.RequestURI, orig.RemoteAddr
	}
	r2 := caddyhttp.PrepareRequest(&base, caddy.NewReplacer(), nil, srv)
	r2.Method, r2.URL, r2.RequestURI, r2.RemoteAddr = cur.Method, cur.URL, cur.RequestURI, cur.RemoteAddr
	vars, _ := r2.Context().Value(caddyhttp.VarsCtxKey).(map[string]any)
	if client, ok := ctx.Value(caddyhttp.VarsCtxKey).(map[string]any); ok && vars != nil {
		maps.Copy(vars, client)
	}
	return r2
}

// startBackground refreshes the stale entry e in a goroutine, with a copy of
// the request detached from the client's connection, then calls release.
func (c *call) startBackground(e *Entry, release func()) {
	bg := &call{h: c.h, r: c.r, next: c.next, key: c.key, url: c.url, reqCC: nil,
		stale: e, storeOK: true, background: true}
	r2 := detachedRequest(c.r)
	bg.r = r2
	go func() {
		defer release()
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				c.h.logger.Error("background update panicked", zap.Any("panic", v), zap.String("url", bg.url))
			}
		}()
		r3 := bg.originRequest(r2.Context())
		bg.reqTime = time.Now()
		f := &fetchWriter{c: bg, rw: &discardWriter{hdr: make(http.Header)}, hdr: make(http.Header), limit: c.h.maxObject}
		err := bg.next.ServeHTTP(f, r3)
		if err := bg.finish(f, err); err != nil {
			c.h.logger.Warn("background update failed", zap.String("url", bg.url), zap.Error(err))
		}
	}()
}

// serve writes a stored entry to the client. validated says the entry was
// just confirmed by the origin (so no-cache="field" fields may be sent).
func (c *call) serve(e *Entry, o outcome, validated bool) error {
	return c.h.serveEntry(c.w, c.r, e, o, validated, time.Now(), c.key)
}

// hitSlots are the fields serveEntry may add besides the stored ones: Age,
// X-Cache-Status, Cache-Status and Content-Length.
const hitSlots = 4

// serveEntry writes the stored entry e to w as the answer to r, at now.
// The stored fields are written into w's own header map (replacing what it
// had for them, keeping the rest), with one allocation for all their values:
// the stored slices are never handed out, so nothing a later handler does
// to the response header reaches the entry.
func (h *Handler) serveEntry(w http.ResponseWriter, r *http.Request, e *Entry, o outcome, validated bool, now time.Time, key string) error {
	hdr := w.Header()
	t := e.template()
	vals := make([]string, len(t.vals)+hitSlots)
	copy(vals, t.vals)
	for _, f := range t.fields {
		if f.isNil {
			hdr[f.name] = nil
			continue
		}
		hdr[f.name] = vals[f.lo:f.hi:f.hi]
	}
	slots := vals[len(t.vals):]
	if !validated {
		for _, f := range e.NoCacheFields {
			delete(hdr, f)
		}
	}
	age := e.age(now)
	ttl := e.Lifetime - age // e.ttl(now)
	strs := e.hitStrings(int64(age/time.Second), int64(ttl/time.Second))
	if !validated || o.hit {
		setField(hdr, "Age", strs.age, &slots)
	}
	if o.hasTTL || validated {
		o.ttl, o.hasTTL = ttl, true
	}
	member := ""
	if h.plainHitMember(o, key) {
		member = strs.status
	}
	h.writeStatusWith(hdr, o, key, member, &slots)

	if e.Status == http.StatusOK && notModifiedFor(r, e.Header) {
		strip304(hdr)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if !bodyAllowed(e.Status) {
		delete(hdr, "Content-Length")
		w.WriteHeader(e.Status)
		return nil
	}
	if e.Status == http.StatusOK {
		// A Range request (its header looked up without allocating, so
		// plain hits pay nothing) is answered from the stored body.
		if rv := r.Header["Range"]; len(rv) > 0 && serveRange(w, r, e, hdr, rv[0]) {
			return nil
		}
	}
	setField(hdr, "Content-Length", t.contentLength, &slots)
	w.WriteHeader(e.Status)
	if r.Method == http.MethodHead {
		return nil
	}
	// One write of the stored body. An error means the client went away;
	// nothing to report upstream.
	_, _ = w.Write(e.Body)
	return nil
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
}

// serveUnsafe passes an unsafe method on and, when it succeeds, invalidates
// the stored responses for its URI and for same-origin Location and
// Content-Location (RFC 9111 §4.4).
func (h *Handler) serveUnsafe(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	sw := &statusWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, tc: &h.TargetedCacheControl}
	err := next.ServeHTTP(sw, r)
	status := sw.status
	if status == 0 && err == nil {
		status = http.StatusOK
	}
	if status < 200 || status >= 400 {
		return err
	}
	base := requestURL(r)
	h.purgeURL(base)
	bu, perr := url.Parse(base)
	if perr != nil {
		return err
	}
	for _, f := range []string{"Location", "Content-Location"} {
		v := w.Header().Get(f)
		if v == "" {
			continue
		}
		u, perr := bu.Parse(v)
		if perr != nil || !strings.EqualFold(u.Host, bu.Host) || u.Scheme != bu.Scheme {
			continue
		}
		h.purgeURL(u.Scheme + "://" + strings.ToLower(u.Host) + u.RequestURI())
	}
	return err
}

func (h *Handler) purgeURL(u string) {
	if _, err := h.storage.PurgeURL(u); err != nil {
		h.warnStorage("invalidating a stored response failed", err, zap.String("url", u))
	}
}

// statusWriter records the status code written, and keeps X-Accel-Expires
// (meant for the cache) from the client, as nginx does, and the targeted
// fields when they are not forwarded.
type statusWriter struct {
	*caddyhttp.ResponseWriterWrapper
	status int
	tc     *TargetedCacheControl
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	delete(s.Header(), accelExpires)
	s.tc.hideTargeted(s.Header())
	s.ResponseWriterWrapper.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriterWrapper.Write(p)
}

// staleOnStatus reports whether an origin answer with status is replaced by
// the stale entry e (use_stale http_NNN, or stale-if-error for 5xx).
func (h *Handler) staleOnStatus(e *Entry, status int, now time.Time) bool {
	if e.MustRevalidate || e.NoCache {
		return false
	}
	if h.stale.status[status] {
		return true
	}
	switch status {
	case 500, 502, 503, 504:
		return e.SIE >= 0 && -e.ttl(now) <= e.SIE
	}
	return false
}

// staleOnError reports whether a failed exchange (err from the next
// handler) is answered with the stale entry e.
func (h *Handler) staleOnError(e *Entry, err error, now time.Time) bool {
	if e.MustRevalidate || e.NoCache {
		return false
	}
	if isTimeout(err) {
		if h.stale.timeout {
			return true
		}
	} else if h.stale.error {
		return true
	}
	var he caddyhttp.HandlerError
	if errors.As(err, &he) && he.StatusCode == 499 {
		return false // the client went away
	}
	return e.SIE >= 0 && -e.ttl(now) <= e.SIE
}

func isTimeout(err error) bool {
	var he caddyhttp.HandlerError
	if errors.As(err, &he) && he.StatusCode == http.StatusGatewayTimeout {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// pickVariant returns the most recent stored variant that answers r, and
// whether variants existed but none matched.
func pickVariant(variants []*Entry, r *http.Request) (*Entry, bool) {
	for _, v := range variants {
		if v.matches(r) {
			return v, false
		}
	}
	return nil, len(variants) > 0
}

// cacheKey computes the key for r, keying HEAD as GET.
func (h *Handler) cacheKey(r *http.Request) string {
	var kb [keyBufSize]byte
	b, s, isStr := h.buildKey(r, kb[:0])
	if isStr {
		return s
	}
	return string(b)
}

// requestURL is the request's scheme://host/request-URI, used to find a
// URI's entries for invalidation.
func requestURL(r *http.Request) string {
	return scheme(r) + "://" + strings.ToLower(r.Host) + r.RequestURI
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// safeMethod reports whether m is safe (RFC 9110 §9.2.1).
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// notModifiedFor evaluates the client's If-None-Match / If-Modified-Since
// against a stored (or storable) 200 response (RFC 9110 §13.2.2).
func notModifiedFor(r *http.Request, hdr http.Header) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if inm := r.Header["If-None-Match"]; len(inm) > 0 {
		// "*" matches any current representation, with an ETag or not
		// (RFC 9110 §13.1.2); a list needs one to compare with.
		etag := field(hdr, "Etag")
		for _, line := range inm {
			for _, t := range strings.Split(line, ",") {
				t = strings.TrimSpace(t)
				if t == "*" || etag != "" && weakEqual(t, etag) {
					return true
				}
			}
		}
		return false
	}
	ims, ok := parseHTTPDate(field(r.Header, "If-Modified-Since"))
	if !ok {
		return false
	}
	lm, ok := parseHTTPDate(hdr.Get("Last-Modified"))
	if !ok {
		lm, ok = parseHTTPDate(hdr.Get("Date"))
		if !ok {
			return false
		}
	}
	return !lm.After(ims)
}

func weakEqual(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

// strip304 removes the representation fields a 304 does not carry.
func strip304(hdr http.Header) {
	for _, f := range []string{"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding"} {
		delete(hdr, f)
	}
	if hdr.Get("Etag") != "" {
		delete(hdr, "Last-Modified")
	}
}
