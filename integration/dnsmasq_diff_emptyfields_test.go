package integration

import "testing"

// Differential tests of the lines dnsmasq 2.90 accepts with empty values,
// empty fields and trailing or doubled commas (found by the acceptance
// parity check of integration/dnsdiff): Frontdesk must not only load them
// but answer as dnsmasq does with them.

// TestDnsmasqDiffEmptyCatchAll: address=, server= and local= (no domain, no
// address) are the local rule for every name, like address=/#/ and
// server=/#/; a plain server wins over it; server=/#/ip is a plain server.
func TestDnsmasqDiffEmptyCatchAll(t *testing.T) {
	queries := []string{"any.example. A", "plain. A", "x.fwd.test. A", "h.test. A", "h.test. AAAA"}
	for _, line := range []string{"address=", "server=", "local=", "server=/#/", "local=/#/", "address=/#/"} {
		t.Run(line+" alone", func(t *testing.T) {
			diffScenario(t, "no-resolv\nno-hosts\nserver=/fwd.test/{UP1}\nhost-record=h.test,10.0.0.7\n"+line+"\n", queries...)
		})
	}
	t.Run("server= with a plain server", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver=\naddress=\nserver={UP1}\n", queries...)
	})
	t.Run("address=/#/ with a plain server", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\naddress=/#/\nserver=/fwd.test/{UP2}\nserver={UP1}\n", queries...)
	})
	t.Run("server=/#/ip", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver=/#/{UP2}\naddress=10.9.8.7\n", "any.example. A", "any.example. AAAA", "plain. TXT")
	})
}

// TestDnsmasqDiffEmptyNumbers: an empty number is 0. cache-size= turns the
// cache off, max-ttl= and max-cache-ttl= (like =0) are no limit, local-ttl=
// and neg-ttl= are the defaults.
func TestDnsmasqDiffEmptyNumbers(t *testing.T) {
	diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\ncache-size=\nmax-ttl=\nmax-cache-ttl=\nlocal-ttl=\nneg-ttl=\nhost-record=h.test,10.0.0.7\n",
		"y.test. A", "y.test. A", "h.test. A", "nosoa.test. A", "nosoa.test. A")
	t.Run("max-ttl=0", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nmax-ttl=0\nmax-cache-ttl=0\n", "y.test. A", "y.test. A", "y.test. TXT")
	})
}

// TestDnsmasqDiffEmptyRecordFields: records of an empty value belong to the
// root; an empty target is the root, an empty number 0, an empty host-record
// or trailing cname field the TTL 0; the last field a record option reads
// holds the rest of the line.
func TestDnsmasqDiffEmptyRecordFields(t *testing.T) {
	diffScenario(t, `
no-resolv
no-hosts
server={UP1}
local-ttl=60
txt-record=
txt-record=t.lan,b , c
ptr-record=7.100.51.198.in-addr.arpa,
ptr-record=x.lan,,b.ex.test
srv-host=_sip._tcp.lan,
srv-host=_a._tcp.lan,t.lan,,,
mx-host=b.corp.test,b.ex.test,
caa-record=ex.test,,0,,issue,,"ca.example.test"
caa-record=a.ex.test,0,issue,"ca.example.test",
caa-record=a.corp.test,,issue,"ca.example.test"
naptr-record=nas.corp.test,,100,,10,,"U",,"E2U+sip",,"!^.*$!sip:info@example.test!",,
naptr-record=x.www.lan,,10,"U","E2U+sip","!x!",
dns-rr=e.lan,65280,a:bc-d ef
dns-rr=f.lan,65281,
host-record=a.corp.test,,198.51.100.7
host-record=nas.lan,10.0.0.2,
host-record=mail.ex.test,198.51.100.7,10.0.0,30
host-record=x.lan,5,10.0.0.3,y.lan
host-record=z.lan,
cname=c.lan,d.lan,5,
cname=printer.lan,,nas.lan
`,
		". TXT", "t.lan. TXT", "7.100.51.198.in-addr.arpa. PTR", "x.lan. PTR", "_sip._tcp.lan. SRV", "_a._tcp.lan. SRV",
		"b.corp.test. MX", "ex.test. CAA", "a.ex.test. CAA", "a.corp.test. CAA", "nas.corp.test. NAPTR", "x.www.lan. NAPTR",
		"e.lan. TYPE65280", "f.lan. TYPE65281", "a.corp.test. A", "nas.lan. A", "10.0.0. A", "mail.ex.test. A",
		"x.lan. A", "y.lan. A", "3.0.0.10.in-addr.arpa. PTR", "z.lan. A", "c.lan. CNAME", "d.lan. CNAME",
		"printer.lan. A", ". CNAME")
}

// TestDnsmasqDiffEmptyDomain: domain= is no domain; domain=<name>, (a
// trailing comma) is the domain of the address 0.0.0.0 only; mx-target= is
// the root and mx-target=<name>, a name ending in a comma.
func TestDnsmasqDiffEmptyDomain(t *testing.T) {
	hosts := map[string]string{"hosts": "10.0.0.1 nas\n0.0.0.0 ads\n"}
	queries := []string{"nas.ex.test. A", "ads.ex.test. A", "ads. A", "1.0.0.10.in-addr.arpa. PTR"}
	t.Run("domain=", func(t *testing.T) {
		diffScenarioFiles(t, "no-resolv\nno-hosts\nserver={UP1}\nexpand-hosts\ndomain=\naddn-hosts={DIR}/hosts\naddn-hosts=\n", hosts, queries...)
	})
	t.Run("domain=ex.test,", func(t *testing.T) {
		diffScenarioFiles(t, "no-resolv\nno-hosts\nserver={UP1}\nexpand-hosts\ndomain=ex.test,\naddn-hosts={DIR}/hosts\n", hosts, queries...)
	})
	t.Run("mx-target", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nmx-host=m.lan\nmx-target=a.lan,\n", "m.lan. MX")
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nmx-host=m.lan\nmx-target=\n", "m.lan. MX")
	})
}
