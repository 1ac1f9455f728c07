package proxycache

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
	"github.com/frontdesk-proxy/frontdesk/modules/internal/httpsyntax"
)

// defaultTargetedFields is the target list when none is configured: the
// one targeted field RFC 9213 defines, for CDN caches (which a shared
// cache in front of an origin fleet is).
var defaultTargetedFields = []string{"CDN-Cache-Control"}

// TargetedCacheControl is RFC 9213's targeted cache control: response
// fields that carry Cache-Control directives meant for one class of cache.
// It is part of the handler's configuration.
type TargetedCacheControl struct {
	// TargetedFields is this cache's target list, most specific first
	// (e.g. ["Frontdesk-Cache-Control", "CDN-Cache-Control"]). The first
	// field of the list that a response carries with a valid, non-empty
	// value (a Structured Fields Dictionary, RFC 8941) replaces the
	// response's Cache-Control and Expires for this cache; a field that
	// does not parse is ignored as if absent. Targeted fields not on the
	// list change nothing and are passed on. Default:
	// ["CDN-Cache-Control"]; an empty list turns targeted fields off.
	// ignore_headers Cache-Control ignores them too.
	TargetedFields *[]string `json:"targeted_fields,omitempty"`

	// ForwardTargeted passes the target list's fields on to clients (on
	// hits and misses alike). RFC 9213 asks a cache to pass on targeted
	// fields not on its list and does not ask it to remove those it
	// obeys; a CDN or another Frontdesk further downstream may obey them
	// too. Default: true.
	ForwardTargeted *bool `json:"forward_targeted,omitempty"`

	targeted        []string // the target list, canonical names
	forwardTargeted bool
}

// provision resolves the defaults and checks the field names.
func (tc *TargetedCacheControl) provision() error {
	fields := defaultTargetedFields
	if tc.TargetedFields != nil {
		fields = *tc.TargetedFields
	}
	tc.targeted = nil
	for _, f := range fields {
		if !httpsyntax.IsToken(f) {
			return fmt.Errorf("targeted_fields: %q is not a field name", f)
		}
		c := http.CanonicalHeaderKey(f)
		if c == "Cache-Control" {
			return fmt.Errorf("targeted_fields: Cache-Control is not a targeted field")
		}
		tc.targeted = append(tc.targeted, c)
	}
	tc.forwardTargeted = caddyopt.BoolOr(tc.ForwardTargeted, true)
	return nil
}

// hiddenTargeted are the fields kept from clients: the target list when
// it is not forwarded.
func (tc *TargetedCacheControl) hiddenTargeted() []string {
	if tc.forwardTargeted {
		return nil
	}
	return tc.targeted
}

// hidesTargeted reports whether the field (canonical name) is kept from
// clients.
func (tc *TargetedCacheControl) hidesTargeted(name string) bool {
	for _, f := range tc.hiddenTargeted() {
		if f == name {
			return true
		}
	}
	return false
}

// hideTargeted removes the target list's fields from a response to a
// client, when they are not forwarded.
func (tc *TargetedCacheControl) hideTargeted(hdr http.Header) {
	for _, f := range tc.hiddenTargeted() {
		delete(hdr, f)
	}
}

// responseDirectives returns the directives this cache obeys for a
// response: those of the first field of the target list with a valid,
// non-empty value (targeted true: Expires is then ignored too), else
// Cache-Control's.
func (h *Handler) responseDirectives(hdr http.Header) (cc directives, targeted bool) {
	if h.ignoreCC {
		return nil, false
	}
	for _, f := range h.targeted {
		if d, ok := parseTargetedField(hdr[f]); ok {
			return d, true
		}
	}
	return parseCacheControl(hdr.Values("Cache-Control")), false
}

// parseTargetedField parses a targeted field's lines as one Structured
// Fields Dictionary (RFC 8941 §4.2: lines joined with commas). ok is
// false when the field is absent, empty or invalid: RFC 9213 §2.2 says to
// ignore it then. Members map to directives as RFC 9213 §2.2 describes:
// Boolean true is a directive without argument (false leaves it out),
// Integers, Decimals, Tokens and Strings are its argument; parameters are
// ignored. A key given twice keeps its last value (RFC 8941).
func parseTargetedField(lines []string) (directives, bool) {
	if len(lines) == 0 {
		return nil, false
	}
	p := &sfParser{s: strings.Join(lines, ", ")}
	p.skipSP()
	if p.s == "" {
		return nil, false
	}
	d := directives{}
	for {
		key := p.key()
		val, present := "", true
		if p.peek() == '=' {
			p.s = p.s[1:]
			val, present = p.itemOrInnerList()
		} else {
			p.params()
		}
		if p.bad {
			return nil, false
		}
		if present {
			d[key] = val
		} else {
			delete(d, key)
		}
		p.skipOWS()
		if p.s == "" {
			return d, true
		}
		if p.peek() != ',' {
			return nil, false
		}
		p.s = p.s[1:]
		p.skipOWS()
		if p.s == "" {
			return nil, false // a trailing comma
		}
	}
}

// sfParser reads RFC 8941 Structured Field values; the first error sticks.
type sfParser struct {
	s   string
	bad bool
}

func (p *sfParser) peek() byte {
	if p.s == "" {
		return 0
	}
	return p.s[0]
}

func (p *sfParser) skipSP() { p.s = strings.TrimLeft(p.s, " ") }

func (p *sfParser) skipOWS() { p.s = strings.TrimLeft(p.s, " \t") }

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// key reads a key: ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
func (p *sfParser) key() string {
	if c := p.peek(); !isLCAlpha(c) && c != '*' {
		p.bad = true
		return ""
	}
	i := 1
	for i < len(p.s) {
		c := p.s[i]
		if !isLCAlpha(c) && !isDigit(c) && !strings.ContainsRune("_-.*", rune(c)) {
			break
		}
		i++
	}
	k := p.s[:i]
	p.s = p.s[i:]
	return k
}

// params reads parameters (ignored): *( ";" *SP key [ "=" bare-item ] ).
func (p *sfParser) params() {
	for !p.bad && p.peek() == ';' {
		p.s = p.s[1:]
		p.skipSP()
		p.key()
		if p.peek() == '=' {
			p.s = p.s[1:]
			p.bareItem()
		}
	}
}

// itemOrInnerList reads a member value; present is false for Boolean
// false.
func (p *sfParser) itemOrInnerList() (string, bool) {
	if p.peek() != '(' {
		v, present := p.bareItem()
		p.params()
		return v, present
	}
	p.s = p.s[1:]
	for !p.bad {
		p.skipSP()
		if p.peek() == ')' {
			p.s = p.s[1:]
			p.params()
			return "", true
		}
		p.bareItem()
		p.params()
		if c := p.peek(); c != ' ' && c != ')' {
			p.bad = true
		}
	}
	return "", false
}

// bareItem reads an Integer, Decimal, String, Token, Byte Sequence or
// Boolean, and returns it as a directive argument.
func (p *sfParser) bareItem() (string, bool) {
	c := p.peek()
	switch {
	case c == '-' || isDigit(c):
		return p.number(), true
	case c == '"':
		return p.str(), true
	case c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return p.token(), true
	case c == ':':
		return p.bytes(), true
	case c == '?':
		if len(p.s) < 2 || (p.s[1] != '0' && p.s[1] != '1') {
			p.bad = true
			return "", false
		}
		v := p.s[1] == '1'
		p.s = p.s[2:]
		return "", v
	}
	p.bad = true
	return "", false
}

// number reads an Integer (at most 15 digits) or a Decimal (at most 12
// integer and 3 fractional digits).
func (p *sfParser) number() string {
	i := 0
	if p.peek() == '-' {
		i = 1
	}
	digits, dot := 0, -1
	for ; i < len(p.s); i++ {
		c := p.s[i]
		if isDigit(c) {
			digits++
		} else if c == '.' && dot < 0 {
			dot = digits
		} else {
			break
		}
	}
	switch {
	case digits == 0,
		dot < 0 && digits > 15,
		dot >= 0 && (dot == 0 || dot > 12 || digits-dot == 0 || digits-dot > 3):
		p.bad = true
		return ""
	}
	v := p.s[:i]
	p.s = p.s[i:]
	return v
}

// str reads a String: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE,
// printable ASCII only.
func (p *sfParser) str() string {
	var b strings.Builder
	for i := 1; i < len(p.s); i++ {
		c := p.s[i]
		switch {
		case c == '\\':
			if i+1 >= len(p.s) || (p.s[i+1] != '"' && p.s[i+1] != '\\') {
				p.bad = true
				return ""
			}
			i++
			b.WriteByte(p.s[i])
		case c == '"':
			p.s = p.s[i+1:]
			return b.String()
		case c < 0x20 || c > 0x7e:
			p.bad = true
			return ""
		default:
			b.WriteByte(c)
		}
	}
	p.bad = true // no closing quote
	return ""
}

// token reads a Token: ( ALPHA / "*" ) *( tchar / ":" / "/" ).
func (p *sfParser) token() string {
	i := 1
	for i < len(p.s) && (httpsyntax.IsTokenChar(p.s[i]) || p.s[i] == ':' || p.s[i] == '/') {
		i++
	}
	v := p.s[:i]
	p.s = p.s[i:]
	return v
}

// bytes reads a Byte Sequence: ":" *base64 ":".
func (p *sfParser) bytes() string {
	end := strings.IndexByte(p.s[1:], ':')
	if end < 0 {
		p.bad = true
		return ""
	}
	v := p.s[1 : 1+end]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '+' || c == '/' || c == '=') {
			p.bad = true
			return ""
		}
	}
	p.s = p.s[2+end:]
	return v
}
