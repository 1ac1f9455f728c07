package conf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ConnmarkConfig is connmark-allowlist-enable and its connmark-allowlist
// lines.
type ConnmarkConfig struct {
	Enable bool
	Mask   uint32 // connmark-allowlist-enable=<mask> (default all bits)
	Lists  []ConnmarkList
}

// ConnmarkList is one connmark-allowlist=<mark>[/<mask>][,<pattern>[/...]].
type ConnmarkList struct {
	Mark, Mask uint32
	All        bool       // pattern "*": every name
	Patterns   [][]string // labels, lower case; "*" within a label matches 0+ characters
}

// parseConnmarkMask reads a decimal, non-zero 32-bit mark or mask, as
// dnsmasq does (no hex).
func parseConnmarkMask(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil && n != 0
}

// parseConnmarkList reads connmark-allowlist=.
func parseConnmarkList(val string) (ConnmarkList, error) {
	bad := errors.New("bad argument to --connmark-allowlist")
	markPart, pats, hasPats := strings.Cut(val, ",")
	l := ConnmarkList{Mask: ^uint32(0)}
	m, mask, hasMask := strings.Cut(markPart, "/")
	var ok bool
	if l.Mark, ok = parseConnmarkMask(m); !ok {
		return l, bad
	}
	if hasMask {
		if l.Mask, ok = parseConnmarkMask(mask); !ok {
			return l, bad
		}
	}
	if !hasPats {
		return l, nil
	}
	for _, p := range strings.Split(pats, "/") {
		if p == "*" {
			l.All = true
			continue
		}
		labels, err := parseConnmarkPattern(p)
		if err != nil {
			return l, fmt.Errorf("bad pattern %q in --connmark-allowlist: %w", p, err)
		}
		l.Patterns = append(l.Patterns, labels)
	}
	return l, nil
}

// parseConnmarkPattern checks a pattern as dnsmasq does: letters, digits,
// '-' and at most two '*' per label, at least two labels, the last two
// without '*', the last not all digits... and not "local".
func parseConnmarkPattern(p string) ([]string, error) {
	labels := strings.Split(strings.ToLower(p), ".")
	if len(labels) < 2 {
		return nil, errors.New("needs at least two labels")
	}
	for i, l := range labels {
		if l == "" || len(l) > 63 || strings.Count(l, "*") > 2 {
			return nil, errors.New("bad label")
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '*') {
				return nil, errors.New("bad character")
			}
		}
		if i >= len(labels)-2 && strings.Contains(l, "*") {
			return nil, errors.New("must end with two literal labels")
		}
	}
	last := labels[len(labels)-1]
	if last == "local" || strings.Trim(last, "0123456789") == "" {
		return nil, errors.New("bad last label")
	}
	return labels, nil
}

// optConnmarkAllowlistEnable parses connmark-allowlist-enable.
func optConnmarkAllowlistEnable(p *parser, o arg) error {
	c := p.c
	c.Connmark.Enable, c.Connmark.Mask = true, ^uint32(0)
	if o.has {
		m, ok := parseConnmarkMask(o.val)
		if !ok {
			return badArg(o.name)
		}
		c.Connmark.Mask = m
	}
	return nil
}

// optConnmarkAllowlist parses connmark-allowlist.
func optConnmarkAllowlist(p *parser, o arg) error {
	return appendParsed(&p.c.Connmark.Lists, o, parseConnmarkList)
}
