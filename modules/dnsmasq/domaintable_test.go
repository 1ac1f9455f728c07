package dnsmasq

import (
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// TestAddressAnswerOrder: the address= lines of one domain answer in
// dnsmasq's order (IPv6, IPv4, then #), by the type asked.
func TestAddressAnswerOrder(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		qtype uint16
		want  []string // the addresses answered; nil: no answer from address=
	}{
		{[]string{"address=/lan/#", "address=/lan/fd00::1"}, dns.TypeAAAA, []string{"fd00::1"}},
		{[]string{"address=/lan/#", "address=/lan/fd00::1"}, dns.TypeA, []string{"0.0.0.0"}},
		{[]string{"address=/lan/198.51.100.7", "address=/lan/#"}, dns.TypeA, []string{"198.51.100.7"}},
		{[]string{"address=/lan/198.51.100.7", "address=/lan/#"}, dns.TypeAAAA, []string{"::"}},
		{[]string{"address=/lan/198.51.100.7", "address=/lan/#"}, dns.TypeANY, []string{"198.51.100.7"}},
		{[]string{"address=/lan/198.51.100.7", "address=/lan/fd00::1"}, dns.TypeANY, []string{"fd00::1"}},
		{[]string{"address=/lan/#"}, dns.TypeANY, []string{"0.0.0.0", "::"}},
		{[]string{"address=/lan/#"}, dns.TypeMX, nil},
		{[]string{"address=/lan/#", "address=/lan/#"}, dns.TypeANY, []string{"0.0.0.0", "0.0.0.0", "::", "::"}},
		{[]string{"address=/lan/198.51.100.7"}, dns.TypeAAAA, nil},
		{[]string{"address=/lan/"}, dns.TypeA, nil},
	} {
		c, err := parse(t, tc.lines...)
		if err != nil {
			t.Fatal(err)
		}
		rs := newStore(c, nil).exact["lan"]
		var got []string
		for _, rr := range rs.addressAnswer("a.lan.", tc.qtype, 0) {
			a, _ := exchange.RRAddr(rr)
			got = append(got, a.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q %s: got %q, want %q", tc.lines, dns.TypeToString[tc.qtype], got, tc.want)
		}
	}
}
