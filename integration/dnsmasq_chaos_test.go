package integration

import (
	"testing"

	"github.com/miekg/dns"
)

// TestDnsmasqDiffChaos covers class CHAOS: version.bind, authors.bind,
// copyright.bind and cachesize.bind TXT answers by default, NOTIMP for other
// questions under bind and server, other CHAOS names forwarded, and
// no-ident, which turns them all into NOTIMP. (dnsmasq's counters,
// insertions.bind and the like, are not given by Frontdesk: see
// TestDnsmasqChaosCounters.)
func TestDnsmasqDiffChaos(t *testing.T) {
	queries := []string{
		"version.bind. TXT ch", "VERSION.Bind. TXT ch", "authors.bind. TXT ch", "copyright.bind. TXT ch",
		"cachesize.bind. TXT ch", "version.bind. ANY ch", "version.bind. SOA ch", "version.bind. A ch",
		"hostname.bind. TXT ch", "id.server. TXT ch", "version.server. TXT ch", "x.bind. TXT ch", "bind. TXT ch",
		"a.version.bind. TXT ch", "version.bind. TXT ch tcp", "version.bind. TXT ch edns1232",
		"example.com. A ch", "example.com. TXT ch", "version.bind. TXT", "example.com. A ch", "example.com. A",
		"x.server. A ch", "server. TXT ch", "hostname. TXT ch",
	}
	t.Run("default", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\ncache-size=77\nlocal-ttl=9\n", queries...)
	})
	t.Run("local-data", func(t *testing.T) {
		// Local data and the domain table do not answer class CHAOS.
		diffScenario(t, `no-resolv
no-hosts
server={UP1}
address=/addr.test/1.2.3.4
address=/nx.addr.test/
host-record=hr.test,5.6.7.8
txt-record=txt.test,hello
cname=cn.test,hr.test
server=/up2.test/{UP2}
local=/loc.test/
synth-domain=syn.test,10.0.0.0/24
`, "addr.test. A ch", "nx.addr.test. A ch", "hr.test. A ch", "txt.test. TXT ch", "cn.test. A ch", "8.7.6.5.in-addr.arpa. PTR ch",
			"x.up2.test. A ch", "x.loc.test. A ch", "10-0-0-1.syn.test. A ch", "1.0.0.10.in-addr.arpa. PTR ch", "version.bind. TXT ch")
	})
	t.Run("no-ident", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nno-ident\n", queries...)
	})
}

// TestDnsmasqChaosCounters pins the deliberate difference: dnsmasq answers
// its cache counters (insertions.bind, hits.bind, servers.bind, ...),
// Frontdesk answers NOTIMP (its counters are on the admin API and metrics).
func TestDnsmasqChaosCounters(t *testing.T) {
	p := startDNSPair(t, "no-resolv\nno-hosts\n", "no-resolv\nno-hosts\n")
	for _, name := range []string{"insertions.bind.", "evictions.bind.", "misses.bind.", "hits.bind.", "auth.bind.", "servers.bind."} {
		q := dnsQuery{name: name, qtype: dns.TypeTXT, chaos: true}
		want, err := exchange(p.dnsmasq, q)
		if err != nil || want.Rcode != dns.RcodeSuccess || len(want.Answer) != 1 {
			t.Errorf("%s: dnsmasq: %v %v", q, want, err)
		}
		got, err := exchange(p.frontdesk, q)
		if err != nil || got.Rcode != dns.RcodeNotImplemented || len(got.Answer) != 0 {
			t.Errorf("%s: frontdesk: %v %v", q, got, err)
		}
	}
}
