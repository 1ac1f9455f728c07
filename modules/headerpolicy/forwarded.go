package headerpolicy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/httpsyntax"
)

// ForwardedPair is one name=value pair of an RFC 7239 Forwarded element. Name
// is lower-cased; Value is unquoted.
type ForwardedPair struct {
	Name, Value string
}

// ForwardedElement is one comma-separated element of a Forwarded header: the
// pairs one proxy added, in order.
type ForwardedElement []ForwardedPair

// String formats the element, quoting values that are not tokens.
func (e ForwardedElement) String() string {
	var sb strings.Builder
	for i, p := range e {
		if i > 0 {
			sb.WriteByte(';')
		}
		sb.WriteString(p.Name)
		sb.WriteByte('=')
		writeValue(&sb, p.Value)
	}
	return sb.String()
}

// ParseForwarded parses a Forwarded header value (RFC 7239 section 4): a list
// of elements, each a ';'-separated list of token=value pairs whose value is a
// token or a quoted-string. Empty list members are skipped, as RFC 9110's list
// syntax allows. A parameter may occur only once per element.
func ParseForwarded(s string) ([]ForwardedElement, error) {
	var out []ForwardedElement
	p := forwardedParser{s: s}
	for {
		p.skipOWS()
		if p.eof() {
			return out, nil
		}
		if p.peek() == ',' {
			p.i++
			continue
		}
		el, err := p.element()
		if err != nil {
			return nil, err
		}
		if len(el) > 0 {
			out = append(out, el)
		}
		p.skipOWS()
		if p.eof() {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, fmt.Errorf("forwarded: unexpected %q at offset %d", p.peek(), p.i)
		}
		p.i++
	}
}

type forwardedParser struct {
	s string
	i int
}

func (p *forwardedParser) eof() bool  { return p.i >= len(p.s) }
func (p *forwardedParser) peek() byte { return p.s[p.i] }

func (p *forwardedParser) skipOWS() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

// element parses pairs up to the next ',' or the end.
func (p *forwardedParser) element() (ForwardedElement, error) {
	var el ForwardedElement
	for {
		p.skipOWS()
		if p.eof() || p.peek() == ',' {
			return el, nil
		}
		if p.peek() == ';' {
			p.i++
			continue
		}
		name := strings.ToLower(p.token())
		if name == "" {
			return nil, fmt.Errorf("forwarded: expected a parameter name at offset %d", p.i)
		}
		if p.eof() || p.peek() != '=' {
			return nil, fmt.Errorf("forwarded: parameter %q has no value", name)
		}
		p.i++
		var value string
		if !p.eof() && p.peek() == '"' {
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			value = v
		} else {
			value = p.token()
			if value == "" {
				return nil, fmt.Errorf("forwarded: parameter %q has an empty value", name)
			}
		}
		for _, prev := range el {
			if prev.Name == name {
				return nil, fmt.Errorf("forwarded: parameter %q repeated in one element", name)
			}
		}
		el = append(el, ForwardedPair{Name: name, Value: value})
		p.skipOWS()
		if !p.eof() && p.peek() != ';' && p.peek() != ',' {
			return nil, fmt.Errorf("forwarded: unexpected %q at offset %d", p.peek(), p.i)
		}
	}
}

func (p *forwardedParser) token() string {
	start := p.i
	for !p.eof() && httpsyntax.IsTokenChar(p.peek()) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted parses a quoted-string starting at the opening quote.
func (p *forwardedParser) quoted() (string, error) {
	p.i++ // opening quote
	var sb strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch {
		case c == '"':
			return sb.String(), nil
		case c == '\\':
			if p.eof() {
				return "", errors.New("forwarded: quoted-pair at end of input")
			}
			q := p.peek()
			if !isQuotedPairChar(q) {
				return "", fmt.Errorf("forwarded: invalid escaped byte 0x%02x", q)
			}
			sb.WriteByte(q)
			p.i++
		case isQdText(c):
			sb.WriteByte(c)
		default:
			return "", fmt.Errorf("forwarded: invalid byte 0x%02x in quoted-string", c)
		}
	}
	return "", errors.New("forwarded: unterminated quoted-string")
}

// forwardedNode formats an IP as an RFC 7239 node: IPv6 in brackets.
func forwardedNode(ip netip.Addr) string {
	if ip.Is6() {
		return "[" + ip.String() + "]"
	}
	return ip.String()
}

func writeValue(sb *strings.Builder, v string) {
	if httpsyntax.IsToken(v) {
		sb.WriteString(v)
		return
	}
	sb.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(v[i])
	}
	sb.WriteByte('"')
}

// isQdText reports whether c may appear unescaped in a quoted-string.
func isQdText(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80
}

// isQuotedPairChar reports whether c may follow a backslash.
func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80
}
