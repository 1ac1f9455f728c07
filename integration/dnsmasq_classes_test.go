package integration

import (
	"strings"
	"testing"
)

// The classes of difference issue 10 found with realistic files (a home
// router's hosts file, a Pi-hole-style blocklist, split DNS, a records-heavy
// lab zone), one test per class, each run against real dnsmasq 2.90 with
// several configurations. Every name is asked for every type of
// sweepTypes, plain, with EDNS and DO, over TCP and in another case: the
// classes are examples of a rule, and the sweep asks around them.

// sweepTypes are the query types asked of every name of a sweep.
var sweepTypes = []string{"A", "AAAA", "MX", "TXT", "SRV", "PTR", "CNAME", "NS", "SOA", "HTTPS", "SVCB", "CAA", "ANY", "TYPE65534"}

// sweep returns the query specs that ask each name for every type of
// sweepTypes; each name is also asked with EDNS and DO, over TCP and in
// mixed case for a few types, after the plain questions (so that those come
// from the cache where dnsmasq caches them).
func sweep(names ...string) []string {
	var out []string
	for _, n := range names {
		for _, t := range sweepTypes {
			out = append(out, n+" "+t)
		}
	}
	for _, n := range names {
		for _, t := range []string{"A", "AAAA", "MX", "HTTPS", "ANY"} {
			out = append(out, n+" "+t+" edns1232 do", n+" "+t+" tcp", mixedCase(n)+" "+t+" edns4096")
		}
	}
	return out
}

// mixedCase spells a name with every other letter in upper case.
func mixedCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// publicZone is what the upstream resolver knows: a few public names, and
// nothing of the LAN's names (they are NXDOMAIN there, as on the Internet).
const publicZone = `
example.com.          300 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 60
example.com.          300 IN A 93.184.215.14
example.com.          300 IN AAAA 2606:2800:21f:cb07::1
example.com.          300 IN MX 10 mail.example.com.
example.com.          300 IN TXT "v=spf1 -all"
www.example.com.      300 IN CNAME example.com.
mail.example.com.     300 IN A 93.184.215.20
cdn.example.com.      300 IN CNAME edge.cdn.example.net.
edge.cdn.example.net. 300 IN A 151.101.1.1
_sip._tcp.example.com. 300 IN SRV 10 5 5060 sip.example.com.
sip.example.com.      300 IN A 93.184.215.30
ads.example.com.      300 IN A 93.184.215.40
tracker.example.net.  300 IN A 151.101.2.2
tracker.example.net.  300 IN AAAA 2a04:4e42::2
doubleclick.net.      300 IN A 142.250.1.1
ad.doubleclick.net.   300 IN A 142.250.1.2
ad.doubleclick.net.   300 IN HTTPS 1 . alpn=h2
`

// homeRouterHosts is a home router's hosts file: plain names, expanded by
// expand-hosts with domain=home.lan, one name written both ways, an IPv6
// line and a name two levels down.
const homeRouterHosts = `# /etc/hosts of a home router
127.0.0.1     localhost
::1           localhost ip6-localhost ip6-loopback
192.168.1.1   router gateway
192.168.1.10  nas
192.168.1.20  printer
fd00::20      printer
192.168.1.30  laptop.home.lan laptop
192.168.1.40  tv.iot.home.lan
`

// blocklistHosts is a Pi-hole-style blocklist: 0.0.0.0 and :: lines for
// names whose parents exist upstream.
const blocklistHosts = `# blocklist
0.0.0.0 ads.example.com
0.0.0.0 tracker.example.net
:: tracker.example.net
0.0.0.0 doubleclick.net
:: doubleclick.net
0.0.0.0 ad.doubleclick.net
0.0.0.0 pixel.ads.example.org
`

// TestDnsmasqClassNodata: a name that exists locally (hosts entries
// including 0.0.0.0/:: blocklist lines, host-record, address=, the parents
// of those names, dotless names under domain-needed) asked for a type it
// does not have is NODATA, never NXDOMAIN — even when the upstream says
// NXDOMAIN.
func TestDnsmasqClassNodata(t *testing.T) {
	requirePeer(t, "dnsmasq")
	home := []string{"router.", "router.home.lan.", "nas.home.lan.", "printer.home.lan.", "laptop.home.lan.", "laptop.",
		"tv.iot.home.lan.", "iot.home.lan.", "home.lan.", "lan.", "unknown.home.lan.", "unknown.", "gateway.", "localhost.",
		"10.1.168.192.in-addr.arpa.", "99.1.168.192.in-addr.arpa.", "example.com."}
	t.Run("home-router", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={ZONE}
domain-needed
bogus-priv
expand-hosts
domain=home.lan
addn-hosts={DIR}/hosts
`, publicZone, map[string]string{"hosts": homeRouterHosts}, sweep(home...)...)
	})
	t.Run("home-router-local", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={ZONE}
domain-needed
bogus-priv
expand-hosts
domain=home.lan
local=/home.lan/
addn-hosts={DIR}/hosts
`, publicZone, map[string]string{"hosts": homeRouterHosts}, sweep(home...)...)
	})
	t.Run("blocklist", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={ZONE}
addn-hosts={DIR}/blocklist.hosts
`, publicZone, map[string]string{"blocklist.hosts": blocklistHosts},
			sweep("ads.example.com.", "tracker.example.net.", "doubleclick.net.", "ad.doubleclick.net.", "x.ad.doubleclick.net.",
				"pixel.ads.example.org.", "ads.example.org.", "example.org.", "example.net.", "www.example.com.")...)
	})
	t.Run("records", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={ZONE}
host-record=gw.lab.example,10.9.0.1
host-record=dual.lab.example,dual,10.9.0.2,fd00::2
address=/addr.example/10.9.1.1
address=/addr6.example/fd00::11
address=/block.example/0.0.0.0
address=/null.example/#
local=/lab.example/
`, publicZone, nil,
			sweep("gw.lab.example.", "dual.lab.example.", "dual.", "lab.example.", "other.lab.example.",
				"addr.example.", "x.addr.example.", "addr6.example.", "block.example.", "null.example.", "x.null.example.")...)
	})
}

// TestDnsmasqClassAddressOverServer: a name under address=/d/ with a more
// specific server=/sub.d/ whose upstream says NXDOMAIN: dnsmasq makes it
// NODATA with aa, since address= says the name exists.
func TestDnsmasqClassAddressOverServer(t *testing.T) {
	requirePeer(t, "dnsmasq")
	corp := `; aa corp.example.
corp.example.            300 IN SOA ns.corp.example. it.corp.example. 7 3600 600 86400 120
vpn.corp.example.        300 IN A 10.20.0.1
intranet.vpn.corp.example. 300 IN A 10.20.0.10
intranet.vpn.corp.example. 300 IN MX 10 mx.vpn.corp.example.
wiki.vpn.corp.example.   300 IN CNAME intranet.vpn.corp.example.
` + publicZone
	names := []string{"corp.example.", "www.corp.example.", "vpn.corp.example.", "intranet.vpn.corp.example.", "wiki.vpn.corp.example.",
		"missing.vpn.corp.example.", "deep.missing.vpn.corp.example.", "other.example."}
	t.Run("address-v4", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={UP1}
address=/corp.example/10.20.0.254
server=/vpn.corp.example/{ZONE}
`, corp, nil, sweep(names...)...)
	})
	t.Run("address-v6-and-null", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={UP1}
address=/corp.example/fd00::254
address=/other.example/#
server=/vpn.corp.example/{ZONE}
server=/sub.other.example/{ZONE}
`, corp, nil, sweep(append(names, "sub.other.example.", "x.sub.other.example.")...)...)
	})
	t.Run("local-over-server", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={ZONE}
local=/corp.example/
address=/corp.example/10.20.0.254
server=/vpn.corp.example/{ZONE}
address=/ads.example.com/
server=/cdn.ads.example.com/{ZONE}
`, corp, nil, sweep(append(names, "ads.example.com.", "cdn.ads.example.com.", "x.cdn.ads.example.com.")...)...)
	})
}

// recordsZone is a records-heavy lab configuration.
const recordsConf = `
no-resolv
no-hosts
server={ZONE}
domain=lab.test
host-record=gw.lab.test,10.9.0.1
host-record=dual.lab.test,10.9.0.2,fd00::2
host-record=mail.lab.test,10.9.0.25,fd00::25
host-record=sip.lab.test,10.9.0.50
cname=www.lab.test,gw.lab.test
cname=ext.lab.test,example.com
mx-host=lab.test,mail.lab.test,10
mx-host=lab.test,mx2.lab.test,20
mx-host=alt.lab.test,example.com,5
srv-host=_sip._tcp.lab.test,sip.lab.test,5060,10,5
srv-host=_sip._udp.lab.test,sip.lab.test,5060
srv-host=_ldap._tcp.lab.test,dc.lab.test,389
srv-host=_xmpp._tcp.lab.test,mail.lab.test,5222
srv-host=_ext._tcp.lab.test,mail.example.com,443
address=/dc.lab.test/10.9.0.60
txt-record=lab.test,"v=spf1 mx -all"
txt-record=_dmarc.lab.test,"v=DMARC1; p=none"
ptr-record=50.0.9.10.in-addr.arpa,sip.lab.test
naptr-record=lab.test,10,20,s,SIP+D2U,,_sip._udp.lab.test
caa-record=lab.test,0,issue,letsencrypt.org
dns-rr=weird.lab.test,65534,0102
dns-rr=lab.test,65280,abcd
`

// TestDnsmasqClassAdditional: dnsmasq adds the addresses it knows locally
// (hosts, host-record) for the targets of its MX and SRV records to the
// additional section, for MX, SRV and ANY questions.
func TestDnsmasqClassAdditional(t *testing.T) {
	requirePeer(t, "dnsmasq")
	names := []string{"lab.test.", "alt.lab.test.", "_sip._tcp.lab.test.", "_sip._udp.lab.test.", "_ldap._tcp.lab.test.",
		"_xmpp._tcp.lab.test.", "_ext._tcp.lab.test.", "example.com.", "_sip._tcp.example.com."}
	t.Run("records", func(t *testing.T) {
		diffScenarioZone(t, recordsConf, publicZone, nil, sweep(names...)...)
	})
	t.Run("hosts-targets", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={ZONE}
expand-hosts
domain=home.lan
addn-hosts={DIR}/hosts
mx-host=home.lan,nas.home.lan,10
mx-host=home.lan,printer,20
mx-host=router.home.lan
mx-target=nas
localmx
srv-host=_ipp._tcp.home.lan,printer.home.lan,631
srv-host=_smb._tcp.home.lan,nas.home.lan,445,0,0
srv-host=_smb._tcp.home.lan,NAS.home.lan,445,1,0
`, publicZone, map[string]string{"hosts": homeRouterHosts},
			sweep("home.lan.", "router.home.lan.", "laptop.home.lan.", "_ipp._tcp.home.lan.", "_smb._tcp.home.lan.", "nas.home.lan.")...)
	})
}

// TestDnsmasqClassAuthoritative: the aa flag of answers that mix upstream
// data with local handling: local CNAMEs to names the upstream answers,
// upstream CNAME chains, answers emptied by the rebind protection.
func TestDnsmasqClassAuthoritative(t *testing.T) {
	requirePeer(t, "dnsmasq")
	zone := `; aa corp.example.
corp.example.        300 IN SOA ns.corp.example. it.corp.example. 7 3600 600 86400 120
wiki.corp.example.   300 IN CNAME web.corp.example.
web.corp.example.    300 IN A 192.168.50.10
rebind.example.com.  300 IN A 192.168.1.50
rebind6.example.com. 300 IN AAAA fd00::50
lo.example.com.      300 IN A 127.0.0.1
chain.example.com.   300 IN CNAME rebind.example.com.
` + publicZone
	// Not asked here: local CNAMEs whose targets only the upstream knows
	// (cname=x,example.com). dnsmasq follows them through its cache with
	// rules of their own (a DO query forwards when a cached step cannot
	// be used; the server is chosen by the last cached name of the chain)
	// that Frontdesk does not model yet.
	names := []string{"wiki.corp.example.", "web.corp.example.", "nx.corp.example.", "rebind.example.com.", "rebind6.example.com.",
		"lo.example.com.", "chain.example.com.", "www.example.com.", "www.lab.test."}
	t.Run("rebind", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={ZONE}
stop-dns-rebind
rebind-domain-ok=/corp.example/
cname=ext.lab.test,example.com
cname=alias.lab.test,rebind.example.com
cname=cdn-alias.lab.test,cdn.example.com
host-record=www.lab.test,10.9.0.1
`, zone, nil, sweep(names...)...)
	})
	t.Run("split", func(t *testing.T) {
		diffScenarioZone(t, `
no-resolv
no-hosts
server={UP1}
server=/corp.example/{ZONE}
server=/example.com/{ZONE}
cname=ext.lab.test,wiki.corp.example
cname=alias.lab.test,rebind.example.com
cname=cdn-alias.lab.test,ext.lab.test
`, zone, nil, sweep(names...)...)
	})
}

// TestDnsmasqClassUnknownType: a name that only has records of dns-rr (and
// caa-record) is not a local name for dnsmasq: other types are forwarded,
// and an NXDOMAIN from upstream stays NXDOMAIN; under local= it is NXDOMAIN.
func TestDnsmasqClassUnknownType(t *testing.T) {
	requirePeer(t, "dnsmasq")
	names := []string{"weird.lab.test.", "x.weird.lab.test.", "caa.lab.test.", "rr.lab.test.", "lab.test.", "sub.rr.lab.test.", "test."}
	conf := `
no-resolv
no-hosts
server={ZONE}
dns-rr=weird.lab.test,65534,0102
dns-rr=rr.lab.test,65280
dns-rr=deep.sub.rr.lab.test,99,abcd
caa-record=caa.lab.test,0,issue,letsencrypt.org
`
	t.Run("forwarded", func(t *testing.T) {
		diffScenarioZone(t, conf, publicZone, nil, sweep(names...)...)
	})
	t.Run("local", func(t *testing.T) {
		diffScenarioZone(t, conf+"local=/lab.test/\n", publicZone, nil, sweep(names...)...)
	})
	t.Run("with-txt", func(t *testing.T) {
		diffScenarioZone(t, conf+"txt-record=weird.lab.test,hello\nlocal=/lab.test/\n", publicZone, nil, sweep(names...)...)
	})
}

// TestDnsmasqClassHostRecordForms: every host-record line dnsmasq accepts
// loads, with dnsmasq's meaning (an empty or all-digit field is the TTL, a
// name may follow the addresses).
func TestDnsmasqClassHostRecordForms(t *testing.T) {
	requirePeer(t, "dnsmasq")
	var lines, names []string
	for i, form := range []string{
		"host-record=v6only.lab.test,,fd00::99",
		"host-record=trail.lab.test,10.9.9.2,",
		"host-record=10.9.9.3,after.lab.test",
		"host-record=ttlfirst.lab.test,42,10.9.9.4",
		"host-record=two.lab.test,10.9.9.5,10.9.9.6",
		"host-record=spaced.lab.test , 10.9.9.7 , fd00::7",
		"host-record=named.lab.test,alias.lab.test,10.9.9.8,fd00::8,600",
		"host-record=noaddr.lab.test,77",
	} {
		lines = append(lines, form)
		_ = i
	}
	for _, n := range []string{"v6only", "trail", "after", "ttlfirst", "two", "spaced", "named", "alias", "noaddr"} {
		names = append(names, n+".lab.test.")
	}
	names = append(names, "lab.test.", "9.9.9.10.in-addr.arpa.", "5.9.9.10.in-addr.arpa.", "6.9.9.10.in-addr.arpa.")
	diffScenarioZone(t, "no-resolv\nno-hosts\nserver={ZONE}\n"+strings.Join(lines, "\n")+"\n", publicZone, nil, sweep(names...)...)
}
