package integration

import "testing"

// TestDnsmasqDiffSynthDomain covers synth-domain= in both forms (addresses
// with dashes, and sequential numbers with a prefix ending in *), IPv4 and
// IPv6, forward and reverse, and its precedence: local data beats it, it
// beats address=; other types and names out of range are forwarded.
func TestDnsmasqDiffSynthDomain(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
local-ttl=7
synth-domain=test.lan,192.168.0.0/24,host-
synth-domain=seq.lan,10.1.0.10,10.1.0.20,node*
synth-domain=v6.lan,fd00::/120,h-
synth-domain=v6b.lan,fd00:1::/64
synth-domain=seq6.lan,fd00::1:0/112,n*
synth-domain=plain.lan,172.16.0.0/16
synth-domain=ov.lan,172.17.0.0/16
address=/ov.lan/1.1.1.1
host-record=host-192-168-0-7.test.lan,5.5.5.5
synth-domain=z6.lan,::/64
synth-domain=z6p.lan,::/64,p-
synth-domain=map.lan,::ffff:0:0/96
synth-domain=srv.lan,10.9.0.0/24
server=/srv.lan/{UP2}
bogus-priv
synth-domain=dup.lan,10.8.0.0/24,n*
synth-domain=dup.lan,10.8.1.0/24,n*
`
	diffScenario(t, conf,
		"host-192-168-0-5.test.lan. A", "HOST-192-168-0-5.test.lan. A", "host-192-168-0-0.test.lan. A", "host-192-168-0-255.test.lan. A",
		"host-192-168-0-5.test.lan. AAAA", "host-192-168-0-5.test.lan. MX", "host-192-168-0-5.test.lan. ANY",
		"host-192-168-0-7.test.lan. A", "7.0.168.192.in-addr.arpa. PTR", "5.0.168.192.in-addr.arpa. PTR",
		"host-192-168-1-5.test.lan. A", "host-192-168-000-5.test.lan. A", "host-192-168-0-05.test.lan. A",
		"x.test.lan. A", "test.lan. A", "192-168-0-5.test.lan. A", "a.host-192-168-0-5.test.lan. A", "5.1.168.192.in-addr.arpa. PTR",
		"node3.seq.lan. A", "NODE3.seq.lan. A", "node0.seq.lan. A", "node10.seq.lan. A", "node11.seq.lan. A",
		"node03.seq.lan. A", "node-1.seq.lan. A", "node.seq.lan. A", "node3.seq.lan. AAAA",
		"13.0.1.10.in-addr.arpa. PTR", "9.0.1.10.in-addr.arpa. PTR", "20.0.1.10.in-addr.arpa. PTR", "21.0.1.10.in-addr.arpa. PTR",
		"h-fd00--5.v6.lan. AAAA", "h-FD00--5.v6.lan. AAAA", "h-fd00-0-0-0-0-0-0-5.v6.lan. AAAA", "h-fd00--5.v6.lan. A",
		"h-fd00--1ff.v6.lan. AAAA", "h-fd00--5.v6.lan. ANY",
		"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"fd00-1--5.v6b.lan. AAAA", "fd00-1--a-b.v6b.lan. AAAA",
		"b.0.0.0.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"n3.seq6.lan. AAAA", "n16.seq6.lan. AAAA", "n70000.seq6.lan. AAAA",
		"3.1.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"172-17-0-1.ov.lan. A", "x.ov.lan. A", "1.0.17.172.in-addr.arpa. PTR",
		"172-16-1-2.plain.lan. A", "172-16-1-2.plain.lan. AAAA", "1.1.16.172.in-addr.arpa. PTR",
		"host-192-168-0-5.test.lan. TXT",
		"0--1.z6.lan. AAAA", "--1.z6.lan. AAAA", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR",
		"p---2.z6p.lan. AAAA", "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR",
		"0--ffff-1-2-3-4.map.lan. AAAA", "0--ffff-102-304.map.lan. AAAA", "--ffff-1-2-3-4.map.lan. AAAA",
		"--FFFF-1-2-3-4.map.lan. AAAA", "0--ffff-1.2.3.4.map.lan. AAAA", "--ffff-1-2-3-4.z6.lan. AAAA",
		"4.0.3.0.2.0.1.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR",
		"n5.dup.lan. A", "5.0.8.10.in-addr.arpa. PTR", "5.1.8.10.in-addr.arpa. PTR",
		"10-9-0-1.srv.lan. A", "x.srv.lan. A", "1.0.9.10.in-addr.arpa. PTR", "2.0.9.10.in-addr.arpa. PTR",
	)
}
