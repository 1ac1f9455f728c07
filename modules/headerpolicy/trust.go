package headerpolicy

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// privateRanges is the shorthand for every private and loopback range.
const privateRanges = "private_ranges"

// parseTrustedProxies turns CIDRs, single addresses and the private_ranges
// shorthand into prefixes.
func parseTrustedProxies(entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range entries {
		if e == privateRanges {
			// Caddy's list mixes CIDRs and single addresses ("::1"), and
			// not all of its CIDRs are masked ("127.0.0.1/8").
			for _, cidr := range caddyhttp.PrivateRangesCIDR() {
				p, err := parseRange(cidr)
				if err != nil {
					return nil, err
				}
				out = append(out, p)
			}
			continue
		}
		p, err := parseRange(e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseRange(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			// netip's message repeats the input; keep only the reason.
			reason := err.Error()
			if i := strings.LastIndex(reason, "): "); i >= 0 {
				reason = reason[i+3:]
			}
			return netip.Prefix{}, fmt.Errorf("trusted_proxies: %q is not a CIDR range (%s)", s, reason)
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("trusted_proxies: %q is neither an IP address, a CIDR range nor %s", s, privateRanges)
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}
