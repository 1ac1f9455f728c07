package conf

import (
	"net/netip"
	"strings"
	"testing"
)

func TestCoveringReverseZones(t *testing.T) {
	for pfx, want := range map[string]string{
		"192.168.1.0/24":  "1.168.192.in-addr.arpa",
		"192.168.0.0/23":  "0.168.192.in-addr.arpa 1.168.192.in-addr.arpa",
		"10.16.0.0/14":    "16.10.in-addr.arpa 17.10.in-addr.arpa 18.10.in-addr.arpa 19.10.in-addr.arpa",
		"192.168.7.16/30": "16.7.168.192.in-addr.arpa 17.7.168.192.in-addr.arpa 18.7.168.192.in-addr.arpa 19.7.168.192.in-addr.arpa",
		"fd00::/64":       "0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
		"fd00:2::/62":     "0.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa 1.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa 2.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa 3.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa",
	} {
		zs, err := coveringReverseZones(netip.MustParsePrefix(pfx))
		if err != nil || strings.Join(zs, " ") != want {
			t.Errorf("%s: got %q %v, want %q", pfx, zs, err, want)
		}
	}
}
