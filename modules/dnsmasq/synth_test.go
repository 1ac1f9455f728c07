package dnsmasq

import (
	"net/netip"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

func TestParseSynthDomain(t *testing.T) {
	good := map[string]conf.SynthDomain{
		"synth-domain=a.lan,10.0.0.1/24,h-":       {Domain: "a.lan", Start: netip.MustParseAddr("10.0.0.0"), End: netip.MustParseAddr("10.0.0.255"), Prefix: "h-"},
		"synth-domain=A.lan,10.0.0.5,10.0.0.9,n*": {Domain: "a.lan", Start: netip.MustParseAddr("10.0.0.5"), End: netip.MustParseAddr("10.0.0.9"), Prefix: "n", Seq: true},
		"synth-domain=b.lan,fd00::/120":           {Domain: "b.lan", Start: netip.MustParseAddr("fd00::"), End: netip.MustParseAddr("fd00::ff")},
		"synth-domain=b.lan,fd00::/64,x*":         {Domain: "b.lan", Start: netip.MustParseAddr("fd00::"), End: netip.MustParseAddr("fd00::ffff:ffff:ffff:ffff"), Prefix: "x", Seq: true},
	}
	for line, want := range good {
		c, err := parse(t, line)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		got := c.Synth[0]
		got.Written = ""
		if got != want {
			t.Errorf("%s: got %+v, want %+v", line, got, want)
		}
	}
	// dnsmasq 2.90 itself rejects the first three; Frontdesk is stricter
	// about the others.
	for _, line := range []string{
		"synth-domain=a.lan", "synth-domain=a.lan,fd00::1,fd00::9,n*", "synth-domain=a.lan,fd00::/48,n*",
		"synth-domain=a.lan,1.2.3.4", "synth-domain=a.lan,10.0.0.9,10.0.0.1", "synth-domain=a.lan,10.0.0.0/24,bad_x",
		"synth-domain=a.lan,10.0.0.0/24,x-,y", "synth-domain=*.lan,10.0.0.0/24", "synth-domain=a.lan,10.0.0.1,fd00::1",
	} {
		if _, err := parse(t, line); err == nil {
			t.Errorf("%s accepted", line)
		}
	}
}

func TestSynthNames(t *testing.T) {
	c, err := parse(t, "synth-domain=s.lan,10.0.0.10,10.0.0.20,n*", "synth-domain=v.lan,::ffff:0:0/96",
		"synth-domain=w.lan,fd00::/64,p-")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		sd    int
		label string
		addr  string
		name  string
	}{
		{0, "n3", "10.0.0.13", "n3.s.lan."},
		{0, "N03", "10.0.0.13", "n3.s.lan."},
		{0, "n", "10.0.0.10", "n0.s.lan."},
		{1, "--ffff-1-2-3-4", "::ffff:1.2.3.4", "0--ffff-1-2-3-4.v.lan."},
		{1, "0--ffff-102-304", "::ffff:1.2.3.4", "0--ffff-1-2-3-4.v.lan."},
		{2, "p-fd00--a", "fd00::a", "p-fd00--a.w.lan."},
	}
	for _, tc := range cases {
		sd := &c.Synth[tc.sd]
		a, ok := synthForward(sd, tc.label)
		if !ok || a != netip.MustParseAddr(tc.addr) {
			t.Errorf("forward(%q) = %v, %v; want %s", tc.label, a, ok, tc.addr)
			continue
		}
		if n := synthName(sd, a); n != tc.name {
			t.Errorf("name(%v) = %q, want %q", a, n, tc.name)
		}
	}
	for _, l := range []string{"n11", "n-1", "n+1", "nx", "x3"} {
		if a, ok := synthForward(&c.Synth[0], l); ok {
			t.Errorf("forward(%q) = %v", l, a)
		}
	}
	if a, ok := synthForward(&c.Synth[1], "0--ffff-1-2-3-4"); ok {
		t.Errorf("forward(0--ffff-1-2-3-4) = %v", a)
	}
}
