package conf

import (
	"errors"
	"net/netip"
)

// readHostRecord reads the fields of host-record= as dnsmasq 2.90 does
// (option.c, --host-record), in any order: a field of digits is the TTL,
// and so is an empty field (atoi("") = 0: "name,,addr" and a trailing comma
// set TTL 0, measured); then an IPv4 or IPv6 address, a later one replacing
// an earlier one of its family (an IPv4-mapped IPv6 address stays IPv6);
// anything else is a name. A line with names and no address (or the
// reverse) is accepted and defines nothing. ttl is -1 for local-ttl.
func readHostRecord(val string) (names []string, v4, v6 netip.Addr, ttl int, err error) {
	parts := fields(val)
	if len(parts) < 2 {
		return nil, v4, v6, 0, errors.New("bad argument to --host-record")
	}
	ttl = -1
	for _, f := range parts {
		if n, ok := atoiCheck(f); ok {
			ttl = wireTTL(n)
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil && a.Zone() == "" {
			if a.Is4() {
				v4 = a
			} else {
				v6 = a
			}
			continue
		}
		if !ValidName(f) {
			return nil, v4, v6, 0, errors.New("bad name in --host-record")
		}
		names = append(names, Canon(f))
	}
	return names, v4, v6, ttl, nil
}
