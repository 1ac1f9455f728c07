package proxycache

import (
	"net/http"
	"time"
)

// accelExpires is the field nginx's X-Accel-Expires: the origin tells the
// cache (and only the cache) how long to keep the response.
const accelExpires = "X-Accel-Expires"

// accelVerdict is what an X-Accel-Expires field says.
type accelVerdict int

const (
	accelNone     accelVerdict = iota // absent, ignored or invalid: the other fields decide
	accelNoStore                      // "0": never stored
	accelLifetime                     // a lifetime, which overrides Cache-Control and Expires
)

// parseAccelExpires reads an X-Accel-Expires value as nginx does: decimal
// seconds from now, "@" and an absolute Unix time in seconds, or 0 for "do
// not cache". Anything else (a sign, spaces, other characters, an empty
// value) is ignored, as nginx's ngx_atoi ignores it. The lifetime counts
// from respTime (nginx's valid_sec is absolute) and is never negative: a
// time in the past gives an entry that is already stale.
func parseAccelExpires(v string, respTime time.Time) (accelVerdict, time.Duration) {
	if len(v) == 0 || v[0] != '@' {
		d, ok := parseDelta(v)
		switch {
		case !ok:
			return accelNone, 0
		case d == 0:
			return accelNoStore, 0
		}
		return accelLifetime, d
	}
	unix, rest, ok := leadingInt(v[1:])
	if !ok || rest != "" {
		return accelNone, 0
	}
	lifetime := time.Duration(0)
	if now := respTime.Unix(); unix > now {
		lifetime = maxDelta
		if unix-now < int64(maxDelta/time.Second) {
			lifetime = time.Unix(unix, 0).Sub(respTime)
		}
	}
	return accelLifetime, lifetime
}

// accelFor returns what the response header hdr's X-Accel-Expires says to
// this handler (nothing with ignore_headers X-Accel-Expires). With several
// field lines, the first counts.
func (h *Handler) accelFor(hdr http.Header, respTime time.Time) (accelVerdict, time.Duration) {
	if h.ignoreXAE {
		return accelNone, 0
	}
	vv := hdr[accelExpires]
	if len(vv) == 0 {
		return accelNone, 0
	}
	return parseAccelExpires(vv[0], respTime)
}
