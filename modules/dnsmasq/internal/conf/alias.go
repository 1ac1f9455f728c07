package conf

import (
	"errors"
	"strings"
)

// AliasRule is one alias= line: IPv4 addresses from start to end (or
// matching start under mask) are rewritten into to, keeping the host bits
// outside mask.
type AliasRule struct {
	start, end, to, mask uint32
	isRange              bool
}

func ip4(s string) (uint32, bool) {
	a, err := ParseAddr(s)
	if err != nil || !a.Unmap().Is4() {
		return 0, false
	}
	b := a.Unmap().As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}

func parseAlias(val string) (AliasRule, error) {
	bad := errors.New("bad argument to --alias")
	f := strings.Split(val, ",")
	if len(f) < 2 || len(f) > 3 {
		return AliasRule{}, bad
	}
	r := AliasRule{mask: 0xffffffff}
	var ok bool
	if lo, hi, isRange := strings.Cut(f[0], "-"); isRange {
		var ok2 bool
		r.start, ok = ip4(lo)
		r.end, ok2 = ip4(hi)
		if !ok || !ok2 || r.end < r.start {
			return AliasRule{}, bad
		}
		r.isRange = true
	} else if r.start, ok = ip4(f[0]); !ok {
		return AliasRule{}, bad
	}
	if r.to, ok = ip4(f[1]); !ok {
		return AliasRule{}, bad
	}
	if len(f) == 3 {
		if r.mask, ok = ip4(f[2]); !ok {
			return AliasRule{}, bad
		}
	}
	return r, nil
}

// Apply rewrites a, reporting whether the rule matched.
func (r AliasRule) Apply(a uint32) (uint32, bool) {
	if r.isRange {
		if a < r.start || a > r.end {
			return a, false
		}
	} else if a&r.mask != r.start&r.mask {
		return a, false
	}
	return r.to&r.mask | a&^r.mask, true
}

// optAlias parses alias.
func optAlias(p *parser, o arg) error { return appendParsed(&p.c.Aliases, o, parseAlias) }
