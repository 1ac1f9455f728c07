package dnsmasq

import (
	"net/netip"
	"testing"
)

// TestPrivateAddr checks the ranges against dnsmasq 2.90's private_net and
// private_net6 (rfc1035.c).
func TestPrivateAddr(t *testing.T) {
	for _, c := range []struct {
		addr     string
		private  bool // with banLocal false
		banLocal bool // with banLocal true
	}{
		{"10.1.2.3", true, true},
		{"172.31.255.255", true, true},
		{"172.32.0.1", false, false},
		{"192.168.1.10", true, true},
		{"169.254.9.9", true, true},
		{"192.0.2.1", true, true},
		{"198.51.100.7", true, true},
		{"203.0.113.200", true, true},
		{"255.255.255.255", true, true},
		{"100.64.0.1", false, false},
		{"127.0.0.2", false, true},
		{"0.0.0.0", false, true},
		{"8.8.8.8", false, false},
		{"::", false, true},
		{"::1", false, true},
		{"fe80::1", true, true},
		{"fec0::1", true, true},
		{"fd00::1", true, true},
		{"fc00::1", false, false},
		{"2001:db8::7", true, true},
		{"2001:db9::7", false, false},
		{"::ffff:10.0.0.1", true, true},
		{"::ffff:127.0.0.1", false, true},
		{"2606:4700::1111", false, false},
	} {
		a := netip.MustParseAddr(c.addr)
		if got := privateAddr(a, false); got != c.private {
			t.Errorf("privateAddr(%s, false) = %v, want %v", c.addr, got, c.private)
		}
		if got := privateAddr(a, true); got != c.banLocal {
			t.Errorf("privateAddr(%s, true) = %v, want %v", c.addr, got, c.banLocal)
		}
	}
}
