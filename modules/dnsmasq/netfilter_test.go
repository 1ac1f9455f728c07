package dnsmasq

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

func TestParseSetRules(t *testing.T) {
	c, err := parse(t, "ipset=/A.example./b.example/s4,s6", "ipset=/#/all", "ipset=/*w.example/star",
		"nftset=/n.example/4#inet#t#s,6#t#s6,ip6#t6#x")
	if err != nil {
		t.Fatal(err)
	}
	want := []conf.SetRule{
		{Domain: "a.example", IPSets: []string{"s4", "s6"}},
		{Domain: "b.example", IPSets: []string{"s4", "s6"}},
		{Domain: "", IPSets: []string{"all"}},
		{Domain: "*w.example", IPSets: []string{"star"}},
		{Domain: "n.example", NFTSets: []conf.NFTSet{{IPv: 4, Family: "inet", Table: "t", Set: "s"}, {IPv: 6, Family: "ip", Table: "t", Set: "s6"}, {IPv: 0, Family: "ip6", Table: "t6", Set: "x"}}},
	}
	if !reflect.DeepEqual(c.SetRules, want) {
		t.Errorf("got %+v\nwant %+v", c.SetRules, want)
	}
	for name, set := range map[string]string{
		"a.example": "s4", "x.a.example": "s4", "xa.example": "all", "w.example": "all", "x.w.example": "all",
		"n.example": "", "other": "all",
	} {
		r, ok := setRuleFor(c.SetRules, name)
		got := ""
		if ok && len(r.IPSets) > 0 {
			got = r.IPSets[0]
		}
		if got != set {
			t.Errorf("%s: set %q, want %q", name, got, set)
		}
	}
}

func TestSetRuleLongestLast(t *testing.T) {
	c, err := parse(t, "ipset=/example/a", "ipset=/x.example/b", "ipset=/x.example/c", "ipset=/example/d")
	if err != nil {
		t.Fatal(err)
	}
	for name, set := range map[string]string{"y.x.example": "c", "example": "d", "z.example": "d"} {
		if r, _ := setRuleFor(c.SetRules, name); len(r.IPSets) != 1 || r.IPSets[0] != set {
			t.Errorf("%s: %v, want %s", name, r.IPSets, set)
		}
	}
}

func TestChainAddrs(t *testing.T) {
	var answer []dns.RR
	for _, s := range []string{
		"t.example. 60 IN A 10.0.0.2", "Q.example. 60 IN CNAME t.example.", "q.example. 60 IN AAAA fd00::1",
		"other.example. 60 IN A 10.9.9.9", "t.example. 60 IN MX 1 m.example.",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		answer = append(answer, rr)
	}
	got := chainAddrs("q.EXAMPLE.", answer)
	want := []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::1")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
