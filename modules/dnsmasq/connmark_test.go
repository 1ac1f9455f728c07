package dnsmasq

import "testing"

func TestConnmarkAllowlist(t *testing.T) {
	c, err := parse(t, "connmark-allowlist-enable=12", "connmark-allowlist=4/4,*.four.example/a*b*.x.com",
		"connmark-allowlist=8,*", "connmark-allowlist=9")
	if err != nil {
		t.Fatal(err)
	}
	cm := c.Connmark
	if !cm.Enable || cm.Mask != 12 || len(cm.Lists) != 3 {
		t.Fatalf("%+v", cm)
	}
	for _, tc := range []struct {
		mark uint32
		name string
		ok   bool
	}{
		{0, "any.example", true}, {1, "any.example", true}, // masked to 0: no mark
		{4, "a.four.example", true}, {0x15, "a.four.example", true}, {4, "four.example", false},
		{4, "a.b.four.example", false}, {4, "axxbyy.x.com", true}, {4, "ab.x.com", true}, {4, "a.x.com", false},
		{8, "anything", true}, {12, "a.four.example", true}, {12, "other.example", false},
	} {
		if got := connmarkAllowed(&cm, tc.mark, tc.name); got != tc.ok {
			t.Errorf("mark %d %s: allowed %v, want %v", tc.mark, tc.name, got, tc.ok)
		}
	}
	d, err := parse(t, "connmark-allowlist-enable")
	if err != nil || d.Connmark.Mask != ^uint32(0) {
		t.Errorf("default mask: %v %v", d.Connmark, err)
	}
}

func TestConnmarkParseErrors(t *testing.T) {
	for _, l := range []string{
		"connmark-allowlist-enable=0xff", "connmark-allowlist-enable=0", "connmark-allowlist=0,a.b",
		"connmark-allowlist=x,a.b", "connmark-allowlist=5/0,a.b", "connmark-allowlist=4294967296,a.b",
		"connmark-allowlist=5,example", "connmark-allowlist=5,*.example", "connmark-allowlist=5,a.local",
		"connmark-allowlist=5,a.123", "connmark-allowlist=5,a***.b.example", "connmark-allowlist=5,a.b*.example",
		"connmark-allowlist=5,a.b.", "connmark-allowlist=5,a.b/", "connmark-allowlist=5,a_b.c", "connmark-allowlist",
	} {
		if _, err := parse(t, l); err == nil {
			t.Errorf("%s accepted (dnsmasq refuses it)", l)
		}
	}
	for _, l := range []string{
		"connmark-allowlist=5", "connmark-allowlist=5,*", "connmark-allowlist=5/15,a.example/*.b.example",
		"connmark-allowlist=5,a**.b.example", "connmark-allowlist=5,*.*.b.example", "connmark-allowlist=5,1.b",
		"connmark-allowlist=4294967295,A.B",
	} {
		if _, err := parse(t, l); err != nil {
			t.Errorf("%s: %v (dnsmasq accepts it)", l, err)
		}
	}
}
