package proxycache

import (
	"net/http"
	"time"
)

// heuristicStatuses are the status codes RFC 9110 §15.1 calls heuristically
// cacheable.
var heuristicStatuses = map[int]bool{200: true, 203: true, 204: true, 206: true, 300: true, 301: true,
	308: true, 404: true, 405: true, 410: true, 414: true, 501: true}

// maxHeuristic caps a heuristic freshness lifetime.
const maxHeuristic = 24 * time.Hour

// freshnessSource says where an entry's lifetime came from.
type freshnessSource int

const (
	fromNothing freshnessSource = iota
	fromHeaders
	fromValid
	fromHeuristic
	fromAccel // X-Accel-Expires
)

// evaluate decides whether a response may be stored and, if so, returns the
// entry (without body) describing it. reason says why not.
func (h *Handler) evaluate(req *http.Request, status int, hdr http.Header, reqTime, respTime time.Time) (*Entry, string) {
	if status < 200 || status == http.StatusPartialContent || status == http.StatusNotModified || status > 599 {
		return nil, "status"
	}
	// nginx's X-Accel-Expires: 0 forbids storing, and a lifetime overrides
	// the caching meaning of Cache-Control and Expires (no-store, private
	// and no-cache included, as in nginx 1.23+).
	accel, accelTTL := h.accelFor(hdr, respTime)
	if accel == accelNoStore {
		return nil, "x-accel-expires"
	}
	cc, targeted := h.responseDirectives(hdr)
	if why := h.refusal(req, hdr, cc, accel == accelLifetime); why != "" {
		return nil, why
	}
	var varyNames []string
	if !h.ignoreVary {
		names, star := parseVary(hdr.Values("Vary"))
		if star {
			return nil, "vary-star"
		}
		varyNames = names
	}
	date, dateOK := parseHTTPDate(hdr.Get("Date"))
	if !dateOK {
		date = respTime
	}
	var src freshnessSource
	var lifetime time.Duration
	if accel == accelLifetime {
		src, lifetime = fromAccel, accelTTL
	} else if src, lifetime = h.lifetime(status, hdr, cc, targeted, date); src == fromValid && lifetime <= 0 {
		return nil, "valid 0"
	}
	// A no-cache response with a validator is still worth storing without a
	// lifetime: every use revalidates it, usually with a cheap 304. (With
	// ignore_headers Cache-Control Expires, as in nginx, only valid counts.)
	if src == fromNothing && !(cc.has("no-cache") && cc["no-cache"] == "" && (hdr.Get("Etag") != "" || hdr.Get("Last-Modified") != "")) {
		return nil, "no freshness"
	}
	e := h.newEntry(req, status, hdr, cc, varyNames, src, lifetime, date, reqTime, respTime)
	if lifetime <= 0 && !e.NoCache {
		if _, _, ok := e.validators(); !ok && e.SIE <= 0 {
			return nil, "already stale"
		}
	}
	return e, ""
}

// refusal gives the reason a response's own fields forbid storing it, or ""
// (an X-Accel-Expires lifetime overrides no-store and private).
func (h *Handler) refusal(req *http.Request, hdr http.Header, cc directives, accelLifetime bool) string {
	switch {
	case cc.has("no-store") && !accelLifetime:
		return "no-store"
	case cc.has("private") && cc["private"] == "" && !accelLifetime:
		return "private"
	case req.Header.Get("Authorization") != "" && !authorizedStore(cc):
		return "authorization"
	case !h.ignoreSetCookie && len(hdr.Values("Set-Cookie")) > 0:
		return "set-cookie"
	}
	return ""
}

// authorizedStore reports whether a response to an authenticated request may
// be stored and reused for others (RFC 9111 §3.5).
func authorizedStore(cc directives) bool {
	return cc.has("public") || cc.has("must-revalidate") || cc.has("s-maxage")
}

// lifetime is the freshness lifetime and where it came from: s-maxage,
// max-age, Expires, the configured valid times, then the Last-Modified
// heuristic. An invalid delta or date means already stale.
func (h *Handler) lifetime(status int, hdr http.Header, cc directives, targeted bool, date time.Time) (freshnessSource, time.Duration) {
	for _, name := range []string{"s-maxage", "max-age"} {
		if d, ok, valid := cc.delta(name); ok {
			if !valid {
				d = 0
			}
			return fromHeaders, d
		}
	}
	if exp := hdr.Values("Expires"); !h.ignoreExpires && !targeted && len(exp) > 0 {
		// One field line holding one HTTP-date; anything else (repeated
		// lines included) means already stale (RFC 9111 §5.3).
		if t, ok := parseHTTPDate(exp[0]); ok && len(exp) == 1 && t.After(date) {
			return fromHeaders, t.Sub(date)
		}
		return fromHeaders, 0
	}
	if ttl, ok := h.validFor(status); ok {
		return fromValid, ttl
	}
	if heuristicStatuses[status] || cc.has("public") {
		if lm, ok := parseHTTPDate(hdr.Get("Last-Modified")); ok && lm.Before(date) {
			return fromHeuristic, min(date.Sub(lm)/10, maxHeuristic)
		}
	}
	return fromNothing, 0
}

// newEntry describes a storable response (without its body).
func (h *Handler) newEntry(req *http.Request, status int, hdr http.Header, cc directives, varyNames []string,
	src freshnessSource, lifetime time.Duration, date, reqTime, respTime time.Time) *Entry {
	e := &Entry{
		Status:         status,
		RequestTime:    reqTime,
		ResponseTime:   respTime,
		Lifetime:       lifetime,
		NoCache:        cc.has("no-cache") && cc["no-cache"] == "" && src != fromAccel,
		NoCacheFields:  cc.fields("no-cache"),
		MustRevalidate: cc.has("must-revalidate") || cc.has("proxy-revalidate") || cc.has("s-maxage"),
		AuthOK:         authorizedStore(cc),
		SWR:            -1,
		SIE:            -1,
	}
	if d, ok, valid := cc.delta("stale-while-revalidate"); ok && valid {
		e.SWR = d
	}
	if d, ok, valid := cc.delta("stale-if-error"); ok && valid {
		e.SIE = d
	}
	if src != fromValid && src != fromAccel {
		// nginx's proxy_cache_valid and X-Accel-Expires count from the
		// moment of storage; the others from the response's age.
		e.InitialAge = initialAge(hdr, date, reqTime, respTime)
	}
	e.Header = storableHeader(hdr, append(cc.fields("private"), h.hiddenTargeted()...))
	for _, n := range varyNames {
		e.VaryNames = append(e.VaryNames, n)
		e.VaryValues = append(e.VaryValues, normalizeFieldValue(req.Header.Values(n)))
	}
	return e
}

// initialAge is RFC 9111 §4.2.3's corrected_initial_age.
func initialAge(hdr http.Header, date, reqTime, respTime time.Time) time.Duration {
	apparent := respTime.Sub(date)
	if apparent < 0 {
		apparent = 0
	}
	ageValue, _ := parseAge(hdr.Values("Age"))
	delay := respTime.Sub(reqTime)
	if delay < 0 {
		delay = 0
	}
	corrected := ageValue + delay
	if corrected > maxDelta {
		corrected = maxDelta
	}
	if apparent > corrected {
		return apparent
	}
	return corrected
}

// validFor is the configured valid time for status.
func (h *Handler) validFor(status int) (time.Duration, bool) {
	if d, ok := h.valid[status]; ok {
		return d, true
	}
	if h.validAny >= 0 {
		return h.validAny, true
	}
	return 0, false
}

// refreshed returns a copy of stale updated from a 304 response
// (RFC 9111 §4.3.4): its header fields replace the stored ones, and the
// freshness is recomputed from the merged header.
func (h *Handler) refreshed(req *http.Request, stale *Entry, notModified http.Header, reqTime, respTime time.Time) (*Entry, bool) {
	merged := make(http.Header, len(stale.Header)+4)
	for k, v := range stale.Header {
		merged[k] = v
	}
	for k, v := range notModified {
		if notModifiedExcluded[k] || len(v) == 0 {
			continue
		}
		merged[k] = append([]string(nil), v...)
	}
	e, _ := h.evaluate(req, stale.Status, merged, reqTime, respTime)
	if e == nil {
		// The 304 made the response unstorable: serve the stored body once
		// with the new header, but forget the entry.
		e = &Entry{Status: stale.Status, Header: storableHeader(merged, nil), SWR: -1, SIE: -1,
			RequestTime: reqTime, ResponseTime: respTime}
		e.Body, e.Key, e.URL = stale.Body, stale.Key, stale.URL
		return e, false
	}
	e.Body, e.Key, e.URL = stale.Body, stale.Key, stale.URL
	e.computeSize()
	return e, true
}
