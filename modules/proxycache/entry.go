package proxycache

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Entry is one stored response: a variant of a cache key.
type Entry struct {
	// Key is the cache key the entry is stored under.
	Key string
	// URL is the request's scheme://host/request-URI, used for invalidation
	// and purges.
	URL string
	// Status is the response status code.
	Status int
	// Header is the stored response header (hop-by-hop fields, Set-Cookie
	// and private fields removed).
	Header http.Header
	// Body is the complete response body.
	Body []byte

	// RequestTime and ResponseTime bracket the origin exchange that produced
	// (or last validated) the entry; InitialAge is RFC 9111's
	// corrected_initial_age at ResponseTime.
	RequestTime, ResponseTime time.Time
	InitialAge                time.Duration
	// Lifetime is the freshness lifetime decided when stored.
	Lifetime time.Duration

	// VaryNames are the request fields named by the response's Vary, and
	// VaryValues the normalised values the request had for them.
	VaryNames, VaryValues []string

	// Directives of the response that matter after storage.
	NoCache        bool          // unqualified no-cache: validate on every use
	NoCacheFields  []string      // no-cache="f": strip f unless validated
	MustRevalidate bool          // must-revalidate, proxy-revalidate or s-maxage
	AuthOK         bool          // public, must-revalidate or s-maxage (RFC 9111 §3.5)
	SWR, SIE       time.Duration // stale-while-revalidate, stale-if-error; -1 when absent

	size int64

	// Derived on first use, for the hit path (never stored; an entry is not
	// modified once served or stored).
	tmpl    atomic.Pointer[hitTemplate]
	strsNow atomic.Pointer[hitStrings]
}

// hitTemplate is the stored header laid out for copying into a response:
// every field's values in one slice, so that a hit copies them with one
// allocation, and the body's Content-Length.
type hitTemplate struct {
	fields        []hitField
	vals          []string
	contentLength string
}

type hitField struct {
	name   string
	lo, hi int // vals[lo:hi]
	isNil  bool
}

// template returns e's hit template, building it on first use.
func (e *Entry) template() *hitTemplate {
	if t := e.tmpl.Load(); t != nil {
		return t
	}
	n := 0
	for _, vv := range e.Header {
		n += len(vv)
	}
	t := &hitTemplate{fields: make([]hitField, 0, len(e.Header)), vals: make([]string, 0, n),
		contentLength: strconv.Itoa(len(e.Body))}
	for k, vv := range e.Header {
		lo := len(t.vals)
		t.vals = append(t.vals, vv...)
		t.fields = append(t.fields, hitField{name: k, lo: lo, hi: len(t.vals), isNil: len(vv) == 0})
	}
	e.tmpl.Store(t)
	return t
}

// hitStrings are the Age and Cache-Status values of a hit, rendered for
// one (age, ttl) pair in whole seconds: hits within the same second reuse
// them.
type hitStrings struct {
	ageSec, ttlSec int64
	age            string // Age
	status         string // our Cache-Status member: "Frontdesk; hit; ttl=N"
}

// hitCacheStatusPrefix starts our Cache-Status member on a hit.
const hitCacheStatusPrefix = cacheStatusName + "; hit; ttl="

// hitStrings returns the rendered Age and hit Cache-Status for the given
// whole seconds.
func (e *Entry) hitStrings(ageSec, ttlSec int64) *hitStrings {
	if s := e.strsNow.Load(); s != nil && s.ageSec == ageSec && s.ttlSec == ttlSec {
		return s
	}
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], ageSec, 10)
	n := len(b)
	b = append(b, hitCacheStatusPrefix...)
	b = strconv.AppendInt(b, ttlSec, 10)
	all := string(b)
	s := &hitStrings{ageSec: ageSec, ttlSec: ttlSec, age: all[:n], status: all[n:]}
	e.strsNow.Store(s)
	return s
}

// age is RFC 9111's current_age at now.
func (e *Entry) age(now time.Time) time.Duration {
	resident := now.Sub(e.ResponseTime)
	if resident < 0 {
		resident = 0
	}
	return e.InitialAge + resident
}

// fresh reports whether e is fresh at now, and its remaining time to live
// (negative once stale).
func (e *Entry) ttl(now time.Time) time.Duration {
	return e.Lifetime - e.age(now)
}

// matches reports whether the stored variant can answer r (RFC 9111 §4.1).
func (e *Entry) matches(r *http.Request) bool {
	if len(e.VaryNames) != len(e.VaryValues) {
		return false
	}
	for i, n := range e.VaryNames {
		if normalizeFieldValue(r.Header.Values(n)) != e.VaryValues[i] {
			return false
		}
	}
	return true
}

// sameVariant reports whether e and o answer the same set of requests.
func (e *Entry) sameVariant(o *Entry) bool {
	if len(e.VaryNames) != len(o.VaryNames) {
		return false
	}
	for i := range e.VaryNames {
		if e.VaryNames[i] != o.VaryNames[i] || e.VaryValues[i] != o.VaryValues[i] {
			return false
		}
	}
	return true
}

// computeSize estimates the memory the entry holds.
func (e *Entry) computeSize() int64 {
	n := int64(len(e.Body)) + int64(len(e.Key)) + int64(len(e.URL)) + 256
	for k, vv := range e.Header {
		n += int64(len(k)) + 16
		for _, v := range vv {
			n += int64(len(v)) + 16
		}
	}
	for _, v := range e.VaryNames {
		n += int64(len(v) + 16)
	}
	for _, v := range e.VaryValues {
		n += int64(len(v) + 16)
	}
	e.size = n
	return n
}

// Size is the number of bytes the entry is accounted for in a storage.
func (e *Entry) Size() int64 {
	if e.size == 0 {
		return e.computeSize()
	}
	return e.size
}

// hopByHop are fields that describe one connection and are never stored
// (RFC 9111 §3.1, RFC 9110 §7.6.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// storableHeader copies h without the fields a shared cache must not store:
// hop-by-hop fields (and those listed in Connection), Set-Cookie, the
// fields named by private="...", our own status fields and X-Accel-Expires
// (meant for the cache only).
func storableHeader(h http.Header, drop []string) http.Header {
	out := make(http.Header, len(h))
	for k, vv := range h {
		if len(vv) == 0 || strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		cp := make([]string, len(vv))
		copy(cp, vv)
		out[k] = cp
	}
	for _, c := range h.Values("Connection") {
		for _, f := range strings.Split(c, ",") {
			if f = strings.TrimSpace(f); f != "" {
				delete(out, http.CanonicalHeaderKey(f))
			}
		}
	}
	for _, f := range hopByHop {
		delete(out, f)
	}
	delete(out, "Set-Cookie")
	delete(out, "Set-Cookie2")
	delete(out, "X-Cache-Status")
	delete(out, accelExpires)
	for _, f := range drop {
		delete(out, f)
	}
	return out
}

// notModifiedExcluded are the stored fields a 304 never replaces
// (RFC 9111 §3.2).
var notModifiedExcluded = map[string]bool{"Content-Length": true, "Content-Encoding": true,
	"Transfer-Encoding": true, "Content-Range": true, "Set-Cookie": true, "Set-Cookie2": true}

// validators returns the conditional fields to revalidate e with, or false
// when e has no validator.
func (e *Entry) validators() (etag, lastModified string, ok bool) {
	etag = e.Header.Get("Etag")
	lastModified = e.Header.Get("Last-Modified")
	if _, valid := parseHTTPDate(lastModified); !valid {
		lastModified = ""
	}
	return etag, lastModified, etag != "" || lastModified != ""
}
