package proxycache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// X-Cache-Status values, as nginx's $upstream_cache_status.
const (
	labelHit         = "HIT"
	labelMiss        = "MISS"
	labelExpired     = "EXPIRED"
	labelStale       = "STALE"
	labelUpdating    = "UPDATING"
	labelRevalidated = "REVALIDATED"
	labelBypass      = "BYPASS"
)

// cacheStatusName identifies this cache in Cache-Status.
const cacheStatusName = "Frontdesk"

// outcome is what the cache did for one request.
type outcome struct {
	label     string // X-Cache-Status
	hit       bool   // answered from storage
	fwd       string // RFC 9211 fwd reason when the origin was asked
	fwdStatus int
	stored    bool
	ttl       time.Duration
	hasTTL    bool
	collapsed bool
	detail    string
}

// writeStatus adds Cache-Status and X-Cache-Status to hdr as configured.
func (h *Handler) writeStatus(hdr http.Header, o outcome, key string) {
	h.writeStatusWith(hdr, o, key, "", nil)
}

// writeStatusWith is writeStatus with our Cache-Status member already
// rendered (member, when not empty) and spare slots for the new fields'
// value slices (so that setting them does not allocate).
func (h *Handler) writeStatusWith(hdr http.Header, o outcome, key, member string, slots *[]string) {
	if h.stats != nil {
		h.stats.count(o.label)
		if o.hit && key != "" && h.stats.sampleHit() {
			h.stats.countHit(key)
		}
	}
	if h.xCacheStatus && o.label != "" {
		setField(hdr, "X-Cache-Status", o.label, slots)
	}
	if !h.cacheStatus {
		return
	}
	if member == "" {
		member = h.cacheStatusMember(o, key)
	}
	// RFC 9211: each cache appends its member; the one nearest the client
	// comes last.
	if prev := hdr["Cache-Status"]; len(prev) > 0 {
		hdr["Cache-Status"] = []string{strings.Join(prev, ", ") + ", " + member}
		return
	}
	setField(hdr, "Cache-Status", member, slots)
}

// cacheStatusMember renders our Cache-Status member for o.
func (h *Handler) cacheStatusMember(o outcome, key string) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(cacheStatusName)
	if o.hit {
		b.WriteString("; hit")
	} else if o.fwd != "" {
		b.WriteString("; fwd=")
		b.WriteString(o.fwd)
		if o.fwdStatus != 0 {
			b.WriteString("; fwd-status=")
			b.WriteString(strconv.Itoa(o.fwdStatus))
		}
	}
	if o.stored {
		b.WriteString("; stored")
	}
	if o.collapsed {
		b.WriteString("; collapsed")
	}
	if o.hasTTL {
		b.WriteString("; ttl=")
		b.WriteString(strconv.FormatInt(int64(o.ttl/time.Second), 10))
	}
	if h.CacheStatusKey && key != "" {
		b.WriteString("; key=")
		b.WriteString(strconv.Quote(key))
	}
	if o.detail != "" {
		b.WriteString("; detail=")
		b.WriteString(o.detail)
	}
	return b.String()
}

// plainHitMember reports whether o's Cache-Status member is exactly
// hitCacheStatusPrefix and the ttl (what hitStrings renders).
func (h *Handler) plainHitMember(o outcome, key string) bool {
	return o.hit && o.hasTTL && !o.stored && !o.collapsed && o.detail == "" && !(h.CacheStatusKey && key != "")
}

// setField sets hdr[name] (a canonical name) to the single value v, using a
// spare slot when there is one, as hdr.Set would.
func setField(hdr http.Header, name, v string, slots *[]string) {
	if slots != nil && len(*slots) > 0 {
		s := (*slots)[:1:1]
		*slots = (*slots)[1:]
		s[0] = v
		hdr[name] = s
		return
	}
	hdr[name] = []string{v}
}
