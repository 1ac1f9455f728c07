package integration

import (
	"strings"
	"testing"
)

// The classes of difference the generative tester (integration/dnsdiff)
// found in filter-A/filter-AAAA/filter-rr, the extended DNS errors dnsmasq
// adds (14 Not Ready, 15 Blocked, 17 Filtered, 23 Network Error),
// stop-dns-rebind's address ranges and selfmx/localmx, each swept (every
// type, with EDNS and DO, over TCP, in mixed case) against real dnsmasq
// 2.90 around the shrunk examples.

// filterZone is the upstream of the filter tests: names with and without
// the filtered types, CNAME chains to them, and an SOA for the negative
// answers.
const filterZone = `
up.test.          300 IN SOA ns.up.test. hostmaster.up.test. 1 3600 600 86400 60
www.up.test.      300 IN CNAME web.up.test.
web.up.test.      300 IN A 93.184.215.14
web.up.test.      300 IN AAAA 2606:2800:21f:cb07::1
web.up.test.      300 IN MX 10 mail.up.test.
web.up.test.      300 IN TXT "v=spf1 -all"
web.up.test.      300 IN HTTPS 1 . alpn=h2
v4.up.test.       300 IN A 93.184.215.20
txt.up.test.      300 IN TXT "only text"
srv.up.test.      300 IN CNAME _sip._tcp.up.test.
_sip._tcp.up.test. 300 IN SRV 10 5 5060 web.up.test.
alias.up.test.    300 IN CNAME v4.up.test.
`

// filterHosts has a blocklist line, a LAN name with IPv4 only and one with
// both families.
const filterHosts = `0.0.0.0      ads.up.test
192.168.1.10 nas.lan
192.168.1.11 dual.lan
fd00::11     dual.lan
`

// filterNames are the names the filter tests ask about.
var filterNames = []string{"www.up.test.", "web.up.test.", "v4.up.test.", "txt.up.test.", "srv.up.test.", "alias.up.test.",
	"nx.up.test.", "up.test.", "ads.up.test.", "nas.lan.", "dual.lan.", "lan.", "mx.lan.", "_ldap._tcp.lan.", "addr.lan."}

// TestDnsmasqClassFilter: filter-A, filter-AAAA and filter-rr leave the
// local data alone, answer NODATA (no aa, no SOA, EDE 17) for a name
// dnsmasq knows something of (hosts addresses, anything cached), forward
// the others (REFUSED with EDE 14 without a server) and remove the types
// from the answer section of forwarded answers (EDE 17); filter-rr=ANY
// trims every section of answers to ANY, NXDOMAIN apart.
func TestDnsmasqClassFilter(t *testing.T) {
	requirePeer(t, "dnsmasq")
	for _, c := range []struct{ name, conf string }{
		{"filter-AAAA", "filter-AAAA\naddress=/addr.lan/fd00::99\n"},
		{"filter-A", "filter-A\naddress=/addr.lan/10.9.9.9\n"},
		{"filter-rr", "filter-rr=TXT,MX,SRV,HTTPS\nmx-host=mx.lan,nas.lan,5\nsrv-host=_ldap._tcp.lan,nas.lan,389\n"},
		{"filter-rr-ANY", "filter-rr=ANY,SRV\ntxt-record=nas.lan,local\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			diffScenarioZone(t, "no-resolv\nno-hosts\nserver={ZONE}\naddn-hosts={DIR}/hosts\n"+c.conf,
				filterZone, map[string]string{"hosts": filterHosts}, sweep(filterNames...)...)
		})
	}
	t.Run("no-server", func(t *testing.T) {
		diffScenarioZone(t, "no-resolv\nno-hosts\nfilter-AAAA\nfilter-rr=MX,HTTPS\naddn-hosts={DIR}/hosts\n",
			"", map[string]string{"hosts": filterHosts}, sweep("nas.lan.", "dual.lan.", "ads.up.test.", "lan.", "nx.lan.")...)
	})
}

// TestDnsmasqClassNoServer: an answer made for want of a server says why
// to an EDNS client: EDE 14 (Not Ready) when no server is configured for
// the name — REFUSED, or the NXDOMAIN/NODATA of domain-needed — and EDE
// 23 (Network Error) when the servers configured cannot be used.
func TestDnsmasqClassNoServer(t *testing.T) {
	requirePeer(t, "dnsmasq")
	names := []string{"www.ex.test.", "plain.", "nas.", "x.nas.", "d.test.", "x.d.test."}
	t.Run("none", func(t *testing.T) {
		diffScenarioZone(t, "no-resolv\nno-hosts\nhost-record=nas,10.9.0.1\ndomain-needed\n", filterZone, nil, sweep(names...)...)
	})
	// Over TCP, dnsmasq closes the connection when it cannot reach the
	// server: asked separately (the sweep compares answers).
	var udp []string
	for _, q := range sweep(names...) {
		if !strings.HasSuffix(q, " tcp") {
			udp = append(udp, q)
		}
	}
	for _, c := range []struct{ name, conf string }{
		{"unusable-domain-server", "server=/d.test/127.0.0.1@192.0.2.55\n"},
		{"unusable-server", "server=127.0.0.1@192.0.2.55\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := "no-resolv\nno-hosts\nhost-record=nas,10.9.0.1\ndomain-needed\n" + c.conf
			diffScenarioZone(t, conf, "", nil, udp...)
			p := startDNSPair(t, conf, conf)
			q := qs("x.d.test. A edns1232 tcp")[0]
			for side, addr := range map[string]string{"dnsmasq": p.dnsmasq, "frontdesk": p.frontdesk} {
				if m, err := exchange(addr, q); err == nil {
					t.Errorf("%s over TCP: want the connection closed, got\n%s", side, m)
				}
			}
		})
	}
}

// TestDnsmasqClassRebindRanges: stop-dns-rebind empties A and AAAA answers
// with an address of dnsmasq's private_net/private_net6 (the TEST-NETs and
// 255.255.255.255 included, 100.64.0.0/10 and fc00::/8 not; loopback and
// unspecified unless rebind-localhost-ok), with EDE 15; answers to ANY
// are not looked at.
func TestDnsmasqClassRebindRanges(t *testing.T) {
	requirePeer(t, "dnsmasq")
	zone := `
up.test.     300 IN SOA ns.up.test. hostmaster.up.test. 1 3600 600 86400 60
tn1.up.test. 300 IN A 192.0.2.1
tn2.up.test. 300 IN A 198.51.100.7
tn3.up.test. 300 IN A 203.0.113.5
bc.up.test.  300 IN A 255.255.255.255
cgn.up.test. 300 IN A 100.64.0.1
lo.up.test.  300 IN A 127.0.0.2
lo.up.test.  300 IN AAAA ::1
any.up.test. 300 IN A 0.0.0.0
any.up.test. 300 IN AAAA ::
sl.up.test.  300 IN AAAA fec0::1
ula.up.test. 300 IN AAAA fc00::1
ula.up.test. 300 IN AAAA fd00::1
doc.up.test. 300 IN AAAA 2001:db8::7
map.up.test. 300 IN AAAA ::ffff:10.0.0.1
pub.up.test. 300 IN A 93.184.215.14
pub.up.test. 300 IN AAAA 2606:2800:21f:cb07::1
`
	names := []string{"tn1.up.test.", "tn2.up.test.", "tn3.up.test.", "bc.up.test.", "cgn.up.test.", "lo.up.test.", "any.up.test.",
		"sl.up.test.", "ula.up.test.", "doc.up.test.", "map.up.test.", "pub.up.test."}
	for _, c := range []struct{ name, conf string }{
		{"stop-dns-rebind", "stop-dns-rebind\n"},
		{"rebind-localhost-ok", "stop-dns-rebind\nrebind-localhost-ok\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			diffScenarioZone(t, "no-resolv\nno-hosts\nserver={ZONE}\n"+c.conf, zone, nil, sweep(names...)...)
		})
	}
}

// TestDnsmasqClassSelfMX: selfmx and localmx answer MX for the hosts and
// host-record names and for the names above them (dnsmasq's empty
// non-terminals of hosts entries), not for those above a cname alias;
// selfmx's MX names the host as the question spells it.
func TestDnsmasqClassSelfMX(t *testing.T) {
	requirePeer(t, "dnsmasq")
	hosts := "0.0.0.0 x.a.lan\n192.168.1.10 nas.home.lan\n"
	names := []string{"x.a.lan.", "a.lan.", "lan.", "nas.home.lan.", "home.lan.", "gw.lab.test.", "lab.test.", "test.",
		"alias.cn.test.", "cn.test.", "mx.home.lan.", "nx.lan."}
	for _, c := range []struct{ name, conf string }{
		{"selfmx", "selfmx\n"},
		{"localmx", "localmx\nmx-target=mail.up.test\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			diffScenarioZone(t, "no-resolv\nno-hosts\nserver={ZONE}\naddn-hosts={DIR}/hosts\nhost-record=gw.lab.test,10.9.0.1\n"+
				"cname=alias.cn.test,nas.home.lan\nhost-record=h.cn.test,10.9.0.2\nmx-host=mx.home.lan,nas.home.lan,5\n"+c.conf,
				filterZone, map[string]string{"hosts": hosts}, sweep(names...)...)
		})
	}
}
