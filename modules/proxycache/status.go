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
	if h.stats != nil {
		h.stats.count(o.label)
	}
	if h.xCacheStatus && o.label != "" {
		hdr.Set("X-Cache-Status", o.label)
	}
	if !h.cacheStatus {
		return
	}
	var b strings.Builder
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
	// RFC 9211: each cache appends its member; the one nearest the client
	// comes last.
	if prev := hdr.Values("Cache-Status"); len(prev) > 0 {
		hdr.Set("Cache-Status", strings.Join(prev, ", ")+", "+b.String())
		return
	}
	hdr.Set("Cache-Status", b.String())
}
