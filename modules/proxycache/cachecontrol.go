package proxycache

import (
	"net/http"
	"strings"
	"time"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/httpsyntax"
)

// maxDelta is what RFC 9111 §1.2.2 says a delta-seconds value too large to
// represent stands for: 2^31 seconds.
const maxDelta = 2147483648 * time.Second

// directives is a parsed Cache-Control field: lower-cased directive names to
// their (unquoted) argument. A directive without an argument maps to "".
// Only the first occurrence of a directive counts (RFC 9111 §4.2.1).
type directives map[string]string

// parseCacheControl parses every Cache-Control field line of h. It never
// fails: malformed members are skipped.
func parseCacheControl(values []string) directives {
	if len(values) == 0 {
		return nil
	}
	d := make(directives, 4)
	for _, line := range values {
		for s := line; len(s) > 0; {
			var name, val string
			name, val, s = nextDirective(s)
			if name == "" {
				continue
			}
			if _, dup := d[name]; !dup {
				d[name] = val
			}
		}
	}
	return d
}

// nextDirective reads the directive at the start of s (after any spaces and
// commas): its lower-case name, its value ("" when it has none), and the
// rest of s from the comma after it. A member with whitespace around its
// "=" ("max-age = 60") is malformed (RFC 9111 §5.2: token "=" value, no
// whitespace, and nginx does not read it either): its name is "".
func nextDirective(s string) (name, val, rest string) {
	s = strings.TrimLeft(s, " \t,")
	if s == "" {
		return "", "", ""
	}
	i := strings.IndexAny(s, "=,")
	if i < 0 {
		i = len(s)
	}
	raw := s[:i]
	name = strings.ToLower(strings.TrimSpace(raw))
	s = s[i:]
	if len(s) == 0 || s[0] != '=' {
		return name, "", s
	}
	s = s[1:]
	if strings.TrimRight(raw, " \t") != raw || strings.TrimLeft(s, " \t") != s {
		if k := strings.IndexByte(s, ','); k >= 0 {
			return "", "", s[k:]
		}
		return "", "", ""
	}
	if len(s) > 0 && s[0] == '"' {
		val, s = quotedValue(s)
		return name, val, s
	}
	k := strings.IndexByte(s, ',')
	if k < 0 {
		k = len(s)
	}
	return name, strings.TrimSpace(s[:k]), s[k:]
}

// quotedValue reads the quoted string s starts with, backslash escapes
// undone; anything after its closing quote up to the next comma is
// skipped. rest starts at that comma.
func quotedValue(s string) (val, rest string) {
	var b strings.Builder
	j := 1
	for ; j < len(s); j++ {
		c := s[j]
		if c == '\\' && j+1 < len(s) {
			j++
			b.WriteByte(s[j])
			continue
		}
		if c == '"' {
			break
		}
		b.WriteByte(c)
	}
	if j < len(s) {
		j++ // closing quote
	}
	s = s[j:]
	if k := strings.IndexByte(s, ','); k >= 0 {
		return b.String(), s[k:]
	}
	return b.String(), ""
}

// has reports whether directive name is present.
func (d directives) has(name string) bool {
	_, ok := d[name]
	return ok
}

// delta returns the delta-seconds argument of name. ok is false when the
// directive is absent; valid is false when it is present but its argument is
// not a non-negative integer.
func (d directives) delta(name string) (dur time.Duration, ok, valid bool) {
	v, ok := d[name]
	if !ok {
		return 0, false, false
	}
	dur, valid = parseDelta(v)
	return dur, true, valid
}

// fields returns the field names listed in a qualified directive such as
// no-cache="Set-Cookie, X-Foo", canonicalised; nil for the unqualified form.
func (d directives) fields(name string) []string {
	v := d[name]
	if v == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if httpsyntax.IsToken(f) {
			out = append(out, http.CanonicalHeaderKey(f))
		}
	}
	return out
}

// parseDelta parses delta-seconds (1*DIGIT). Values too large saturate at
// 2^31 seconds as RFC 9111 §1.2.2 requires.
func parseDelta(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<31 {
			n = n*10 + int64(c-'0')
		}
	}
	if n >= 1<<31 {
		return maxDelta, true
	}
	return time.Duration(n) * time.Second, true
}

// parseAge reads the Age field: the first member of a list, ignored (ok
// false) when invalid (RFC 9111 §5.1).
func parseAge(values []string) (time.Duration, bool) {
	if len(values) == 0 {
		return 0, false
	}
	v := values[0]
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return parseDelta(strings.TrimSpace(v))
}

// parseVary returns the canonical field names listed in the Vary field
// lines, and whether one of them is "*".
func parseVary(values []string) (names []string, star bool) {
	for _, line := range values {
		for _, f := range strings.Split(line, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
			case f == "*":
				star = true
			case httpsyntax.IsToken(f):
				c := http.CanonicalHeaderKey(f)
				dup := false
				for _, n := range names {
					if n == c {
						dup = true
						break
					}
				}
				if !dup {
					names = append(names, c)
				}
			}
		}
	}
	return names, star
}

// normalizeFieldValue joins a request's field lines for Vary matching,
// collapsing whitespace around commas (RFC 9111 §4.1 allows normalising
// whitespace and combining lines).
func normalizeFieldValue(values []string) string {
	if len(values) == 0 {
		return "\x00absent"
	}
	var b strings.Builder
	for i, line := range values {
		for j, part := range strings.Split(line, ",") {
			if i > 0 || j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.Join(strings.Fields(part), " "))
		}
	}
	return b.String()
}
