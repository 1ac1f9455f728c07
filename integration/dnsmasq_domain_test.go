package integration

import "testing"

// TestDnsmasqDiffDomainRange covers domain=<name>,<range>[,local]: which
// domain expand-hosts adds (the range's, else the plain domain=), the PTR
// answers, and the forward and reverse local= zones that "local" adds
// for the <ip>/<len> form (split at label boundaries: /23, /12, /28, /60,
// /62), but not for the <start>,<end> form; of overlapping ranges the
// last line wins. Under local= (and address=
// without an address), a name with local names below it answers NODATA,
// not NXDOMAIN.
func TestDnsmasqDiffDomainRange(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
addn-hosts={DIR}/h.hosts
expand-hosts
domain=def.test
domain=lan.test,192.168.1.0/24,local
domain=rng.test,10.0.0.10,10.0.0.20
domain=v6.test,fd00::/64,local
domain=a.test,192.168.4.0/23,local
domain=b.test,10.16.0.0/12,local
domain=c.test,172.16.5.10,172.16.5.20,local
domain=d.test,fd00:1::/60,local
domain=f.test,fd00:2::/62,local
domain=g.test,192.168.7.16/28,local
domain=r1.test,10.3.0.1,10.3.0.9
domain=small.test,10.3.0.0/24
domain=big.test,10.0.0.0/8
domain=r2.test,10.4.0.1,10.4.0.9
address=/adr.test/
host-record=h.adr.test,1.2.3.4
local=/l.test/
host-record=x.y.z.l.test,1.2.3.4
`
	hosts := "192.168.1.5 inr\n192.168.2.5 outr\n10.0.0.15 rng\n10.0.0.25 rngout\nfd00::5 v6in\n192.168.5.9 ina\n172.16.5.11 inc\n10.3.0.5 ov\n10.4.0.5 ov2\n"
	rev6 := func(prefix string) string { // fd00:..:X::1 reverse names
		return "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." + prefix + ".ip6.arpa. PTR"
	}
	diffScenarioFiles(t, conf, map[string]string{"h.hosts": hosts},
		"inr. A", "inr.lan.test. A", "inr.def.test. A", "outr.def.test. A", "outr.lan.test. A",
		"rng.rng.test. A", "rng.def.test. A", "rngout.def.test. A", "rngout.rng.test. A",
		"v6in.v6.test. AAAA", "v6in.def.test. AAAA", "ina.a.test. A", "inc.c.test. A", "inc.def.test. A",
		"5.1.168.192.in-addr.arpa. PTR", "5.2.168.192.in-addr.arpa. PTR", "15.0.0.10.in-addr.arpa. PTR",
		"25.0.0.10.in-addr.arpa. PTR", "9.5.168.192.in-addr.arpa. PTR", "11.5.16.172.in-addr.arpa. PTR",
		"x.lan.test. A", "lan.test. A", "lan.test. SOA", "x.a.test. A", "a.test. A", "x.c.test. A", "c.test. A",
		"x.rng.test. A", "x.v6.test. A", "x.def.test. A", "x.d.test. A", "x.f.test. A", "x.g.test. A",
		"6.1.168.192.in-addr.arpa. PTR", "1.168.192.in-addr.arpa. PTR",
		"1.4.168.192.in-addr.arpa. PTR", "1.6.168.192.in-addr.arpa. PTR", "168.192.in-addr.arpa. PTR",
		"1.2.16.10.in-addr.arpa. PTR", "1.2.31.10.in-addr.arpa. PTR", "1.2.32.10.in-addr.arpa. PTR", "1.2.15.10.in-addr.arpa. PTR",
		"12.5.16.172.in-addr.arpa. PTR",
		"17.7.168.192.in-addr.arpa. PTR", "31.7.168.192.in-addr.arpa. PTR", "32.7.168.192.in-addr.arpa. PTR", "7.168.192.in-addr.arpa. PTR",
		rev6("6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f"),
		rev6("5.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f"), rev6("0.1.0.0.0.0.0.0.1.0.0.0.0.0.d.f"),
		rev6("3.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f"), rev6("4.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f"),
		"ov.r1.test. A", "ov.small.test. A", "ov.big.test. A", "ov2.r2.test. A", "ov2.big.test. A", "rng.big.test. A",
		"adr.test. A", "y.z.l.test. A", "z.l.test. MX", "l.test. A", "q.l.test. A", "3.2.1.in-addr.arpa. PTR",
	)
}
