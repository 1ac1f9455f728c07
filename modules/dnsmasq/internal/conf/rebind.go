package conf

import (
	"errors"
	"fmt"
	"strings"
)

// rebindDomains reads rebind-domain-ok=[/]<domain>[/<domain>...] as
// dnsmasq does (option.c, --rebind-domain-ok): one leading '/' is dropped,
// every '/' ends a domain, and the list ends at the end of the value or
// after a '/' that ends it. An empty domain ("", "/", the last of
// "/lan//") is kept: dnsmasq matches it to every dotless name.
func rebindDomains(val string) []string {
	val = strings.TrimPrefix(val, "/")
	var out []string
	for {
		d, rest, more := strings.Cut(val, "/")
		out = append(out, NameKey(strings.Trim(d, " ")))
		val = strings.TrimLeft(rest, " ")
		if !more || val == "" {
			return out
		}
	}
}

// checkRebindDotless refuses an empty rebind-domain-ok domain together with
// stop-dns-rebind: dnsmasq exempts every dotless name from the rebind check
// then, which Frontdesk does not implement (a documented difference).
// Without stop-dns-rebind the domain means nothing and is accepted.
func (p *parser) checkRebindDotless() error {
	l, ok := p.first[rebindDotlessKey]
	if !ok || !p.c.StopRebind {
		return nil
	}
	return &LineError{l, errors.New("an empty domain in --rebind-domain-ok (every dotless name) is not implemented by Frontdesk together with --stop-dns-rebind")}
}

// rebindDotlessKey records in parser.first the first rebind-domain-ok line
// with an empty domain.
const rebindDotlessKey = "rebind-domain-ok (empty domain)"

// optRebindDomainOK parses rebind-domain-ok.
func optRebindDomainOK(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	c.RebindOK = append(c.RebindOK, rebindDomains(o.val)...)
	return nil
}
