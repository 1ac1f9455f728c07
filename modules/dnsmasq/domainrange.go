package dnsmasq

import (
	"net/netip"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// rangeContains reports whether a is in the range.
func rangeContains(d conf.DomainRange, a netip.Addr) bool {
	if d.Prefix.IsValid() {
		return d.Prefix.Contains(a)
	}
	return a.BitLen() == d.Start.BitLen() && a.Compare(d.Start) >= 0 && a.Compare(d.End) <= 0
}

// domainFor is the domain expand-hosts adds to a plain name with address
// a: the last domain= range that holds a (measured on 2.90: the last line,
// not the narrowest range), else the plain domain= ("" for none).
func domainFor(c *conf.Config, a netip.Addr) string {
	for i := len(c.DomainRanges) - 1; i >= 0; i-- {
		if rangeContains(c.DomainRanges[i], a) {
			return c.DomainRanges[i].Domain
		}
	}
	return c.Domain
}
