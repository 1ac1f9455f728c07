package dnsmasq

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// reverse is the reverse name of addr, lower case without the trailing dot.
func reverse(addr string) string {
	r, _ := dns.ReverseAddr(addr)
	return strings.TrimSuffix(r, ".")
}

// TestPrivateReverse: the reverse names bogus-priv keeps local are those of
// dnsmasq 2.90's private ranges, a short name standing for the address with
// the missing labels zero.
func TestPrivateReverse(t *testing.T) {
	for name, want := range map[string]bool{
		"1.1.168.192.in-addr.arpa": true,
		"168.192.in-addr.arpa":     true,  // 192.168.0.0
		"192.in-addr.arpa":         false, // 192.0.0.0
		"0.in-addr.arpa":           true,  // 0.0.0.0
		"8.8.8.8.in-addr.arpa":     false,
		"1.0.64.100.in-addr.arpa":  false, // 100.64.0.0/10 is not private for dnsmasq 2.90
		"0.ip6.arpa":               true,  // ::
		"d.f.ip6.arpa":             true,  // fd00::
		"c.f.ip6.arpa":             false, // fc00::: only fd00::/8
		"0.c.e.f.ip6.arpa":         true,  // fec0:: (site-local)
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa": true,
		reverse("::ffff:10.0.0.1"): true, // IPv4-mapped: as the IPv4 address
		reverse("::ffff:8.8.8.8"):  false,
	} {
		if got := privateReverse(name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}
