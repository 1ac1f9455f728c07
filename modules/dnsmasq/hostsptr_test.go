package dnsmasq

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// TestReverseOwners: the first entry of an address answers its PTR query,
// unless a name's duplicate check has cut the address hash chain it is on
// (measured on dnsmasq 2.90: hosts files ":: lan", "0.0.0.0 www.lan
// www.lan", ":: nas" give :: two PTR names; without the repeated www.lan,
// one).
func TestReverseOwners(t *testing.T) {
	e := func(name, addr string) conf.HostEntry {
		return conf.HostEntry{Name: name, Addr: netip.MustParseAddr(addr), Reverse: true}
	}
	for _, tc := range []struct {
		name    string
		entries []conf.HostEntry
		want    []bool
	}{
		{"first one trumps", []conf.HostEntry{e("lan", "::"), e("www.lan", "0.0.0.0"), e("nas", "::")},
			[]bool{true, true, false}},
		{"a repeated name cuts the chain", []conf.HostEntry{e("lan", "::"), e("www.lan", "0.0.0.0"), e("www.lan", "0.0.0.0"), e("nas", "::")},
			[]bool{true, true, false, true}},
		{"second name of a line", []conf.HostEntry{e("a", "10.0.0.1"), e("b", "10.0.0.1")},
			[]bool{true, false}},
	} {
		if got := reverseOwners(tc.entries, 1232, true); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
