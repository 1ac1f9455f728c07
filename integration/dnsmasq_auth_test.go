package integration

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// authZoneConf is an auth-zone with every kind of local data, inside and
// outside its subnets; the query address (127.0.0.1) is the auth-server
// address on both sides.
const authZoneConf = `
no-resolv
no-hosts
addn-hosts={DIR}/hosts
server={UP1}
auth-server=ns1.zone.test,127.0.0.1
auth-zone=zone.test,192.168.5.0/24,fd00:5::/64,exclude:192.168.5.128/25
auth-soa=2024010101,admin.zone.test,3600,600,86400
auth-sec-servers=ns2.other.test,ns3.zone.test
auth-ttl=300
local-ttl=30
host-record=ns1.zone.test,192.168.5.1
host-record=www.zone.test,192.168.5.10,fd00:5::10,77
host-record=excl.zone.test,192.168.5.200
host-record=out.zone.test,10.0.0.1
host-record=a.b.zone.test,192.168.5.40
host-record=other.test,192.168.5.12
cname=alias.zone.test,www.zone.test
cname=ext.zone.test,www.example.com
cname=unq.zone.test,www
cname=*.wild.zone.test,www.zone.test
cname=dang.zone.test,nothere.zone.test
mx-host=zone.test,mail.zone.test,10
host-record=mail.zone.test,192.168.5.25
txt-record=txt.zone.test,"hello","world"
txt-record=t.u.zone.test,"x"
srv-host=_sip._tcp.zone.test,sip.zone.test,5060,1,2
naptr-record=naptr.zone.test,10,20,"s","SIP+D2U","","_sip._udp.zone.test"
caa-record=zone.test,0,issue,"letsencrypt.org"
dns-rr=rr.zone.test,65280,0a0b
ptr-record=p.zone.test,target.test
address=/addr.zone.test/192.168.5.20
synth-domain=zone.test,192.168.5.0/24,syn-
`

const authHosts = "192.168.5.30 h1.zone.test h1alias.zone.test\n10.1.1.1 h2.zone.test\n192.168.5.31 plainhost\n"

// authForwardQueries are questions for the names of authZoneConf.
var authForwardQueries = []string{
	"zone.test. SOA", "zone.test. NS", "zone.test. MX", "zone.test. CAA", "zone.test. ANY", "zone.test. A",
	"zone.test. TXT tcp", "zone.test. SOA edns1232",
	"www.zone.test. A", "www.zone.test. AAAA", "www.zone.test. ANY", "www.zone.test. MX", "WWW.Zone.Test. A",
	"excl.zone.test. A", "out.zone.test. A", "ns1.zone.test. A", "mail.zone.test. A",
	"h1.zone.test. A", "h1alias.zone.test. A", "h2.zone.test. A", "plainhost.zone.test. A",
	"alias.zone.test. A", "alias.zone.test. CNAME", "alias.zone.test. MX", "ext.zone.test. A", "unq.zone.test. A",
	"x.wild.zone.test. A", "y.x.wild.zone.test. A", "wild.zone.test. A", "dang.zone.test. A",
	"txt.zone.test. TXT", "t.u.zone.test. TXT", "u.zone.test. A", "_sip._tcp.zone.test. SRV", "_tcp.zone.test. SRV",
	"naptr.zone.test. NAPTR", "rr.zone.test. TYPE65280", "rr.zone.test. A", "p.zone.test. PTR", "addr.zone.test. A",
	"syn-192-168-5-7.zone.test. A", "sub.www.zone.test. A", "b.zone.test. A", "x.zone.test. A", "x.rr.zone.test. A",
	"www.zone.test. SOA", "www.zone.test. NS",
}

// TestDnsmasqDiffAuthZone: queries that arrive on the auth-server address
// are answered from the zone (aa, no ra, TTL auth-ttl, NS of the zone in the
// authority section, SOA for NXDOMAIN and NODATA), addresses only inside the
// zone's subnets; reverse zones of the subnets answer PTR; names outside
// every zone are refused, not forwarded.
func TestDnsmasqDiffAuthZone(t *testing.T) {
	q := append([]string{}, authForwardQueries...)
	q = append(q,
		"10.5.168.192.in-addr.arpa. PTR", "30.5.168.192.in-addr.arpa. PTR", "7.5.168.192.in-addr.arpa. PTR",
		"200.5.168.192.in-addr.arpa. PTR", "12.5.168.192.in-addr.arpa. PTR", "5.168.192.in-addr.arpa. SOA",
		"5.168.192.in-addr.arpa. NS", "5.168.192.in-addr.arpa. PTR", "168.192.in-addr.arpa. SOA",
		"10.5.168.192.in-addr.arpa. A", "x.5.168.192.in-addr.arpa. PTR", "1.0.0.10.in-addr.arpa. PTR",
		"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"0.0.0.0.0.0.0.0.5.0.0.0.0.0.d.f.ip6.arpa. SOA",
		"other.test. A", "www.example.com. A", "example.com. MX",
	)
	diffScenarioFiles(t, authZoneConf, map[string]string{"hosts": authHosts}, q...)
}

// TestDnsmasqDiffAuthLocal: on an address that is not an auth-server
// address (here the auth-server is 127.0.0.2), names in an auth-zone domain
// are still answered from the zone, but not authoritatively (except SOA and
// NS at the apex), with ra, no SOA in negative answers, and addresses
// outside the subnets included; other names and the reverse zones go the
// usual way (local data, upstream).
func TestDnsmasqDiffAuthLocal(t *testing.T) {
	conf := strings.Replace(authZoneConf, "auth-server=ns1.zone.test,127.0.0.1", "auth-server=ns1.zone.test,127.0.0.2", 1)
	q := append([]string{}, authForwardQueries...)
	q = append(q, "10.5.168.192.in-addr.arpa. PTR", "other.test. A", "www.example.com. A", "12.5.168.192.in-addr.arpa. PTR")
	diffScenarioFiles(t, conf, map[string]string{"hosts": authHosts}, q...)
}

// TestDnsmasqDiffAuthDefaults: without auth-soa the SOA has dnsmasq's
// defaults (hostmaster.<auth-server>, 1200, 180, 1209600, minimum auth-ttl;
// only the serial, the start time, differs, so the SOA is compared here
// through queries that do not return it), auth-ttl defaults to 600, an
// auth-server without address is not an NS of the zone, '@' in the
// hostmaster is a dot, a zone without subnets takes every address, and of
// nested zones the one given last answers.
func TestDnsmasqDiffAuthDefaults(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
auth-server=ns1.zone.test,lo
auth-zone=zone.test,192.168.5.0/24
auth-zone=sub.zone.test,10.0.0.0/8
auth-zone=free.test
auth-sec-servers=ns2.other.test
host-record=www.zone.test,192.168.5.10
host-record=x.sub.zone.test,10.1.2.3
host-record=y.sub.zone.test,192.168.5.50
host-record=f.free.test,8.8.8.8
cname=c2.zone.test,x.sub.zone.test
`
	diffScenario(t, conf, "zone.test. NS", "www.zone.test. A", "x.sub.zone.test. A", "sub.zone.test. NS",
		"c2.zone.test. A", "f.free.test. A", "free.test. NS", "3.2.1.10.in-addr.arpa. PTR", "50.5.168.192.in-addr.arpa. PTR",
		"10.in-addr.arpa. NS", "www.example.com. A")
	// The SOA fields other than the serial.
	p := startDNSPair(t, strings.ReplaceAll(conf, "{UP1}", "127.0.0.1#9"), strings.ReplaceAll(conf, "{UP1}", "127.0.0.1#9"))
	var soas [2]*dns.SOA
	for i, addr := range []string{p.dnsmasq, p.frontdesk} {
		m, err := exchange(addr, dnsQuery{name: "zone.test.", qtype: dns.TypeSOA})
		if err != nil || len(m.Answer) != 1 {
			t.Fatalf("SOA from %s: %v %v", addr, m, err)
		}
		soas[i] = m.Answer[0].(*dns.SOA)
		soas[i].Serial = 0
	}
	if soas[0].String() != soas[1].String() {
		t.Errorf("SOA: dnsmasq %s, frontdesk %s", soas[0], soas[1])
	}
	// Of nested zones, the one given last answers. (A fixed serial: the
	// default is the load time, which may differ by a second.)
	swapped := strings.Replace(strings.Replace(conf, "auth-zone=zone.test,192.168.5.0/24\n", "", 1),
		"auth-zone=free.test\n", "auth-zone=free.test\nauth-zone=zone.test,192.168.5.0/24\n", 1) + "auth-soa=5\n"
	diffScenario(t, swapped, "x.sub.zone.test. A", "y.sub.zone.test. A", "sub.zone.test. NS", "c2.zone.test. A",
		"3.2.1.10.in-addr.arpa. PTR", "50.5.168.192.in-addr.arpa. PTR")
	noAddr := strings.Replace(conf, "auth-server=ns1.zone.test,lo", "auth-server=ns1.zone.test\nauth-soa=7,admin@zone.test", 1)
	// (Not "zone.test. NS": with auth-sec-servers and an auth-server
	// without address, dnsmasq 2.90 answers it with a corrupt record.)
	diffScenario(t, noAddr, "zone.test. SOA", "www.zone.test. A", "x.zone.test. A", "www.zone.test. AAAA")
}

// axfr transfers zone from addr: the records sorted, or the error.
func axfr(addr, zone string) ([]string, error) {
	m := new(dns.Msg)
	m.SetAxfr(zone)
	ch, err := new(dns.Transfer).In(m, addr)
	if err != nil {
		return nil, err
	}
	var out []string
	for env := range ch {
		if env.Error != nil {
			return out, env.Error
		}
		for _, rr := range env.RR {
			out = append(out, rr.String())
		}
	}
	sort.Strings(out)
	return out, nil
}

// diffAXFR compares a zone transfer (sorted records, or the error) from
// both servers of a pair.
func diffAXFR(t *testing.T, p dnsPair, zone string) {
	t.Helper()
	want, werr := axfr(p.dnsmasq, zone)
	got, gerr := axfr(p.frontdesk, zone)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Errorf("AXFR %s: dnsmasq error %v, frontdesk error %v", zone, werr, gerr)
		return
	}
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("AXFR %s differs:\n--- dnsmasq:\n%s\n--- frontdesk:\n%s", zone, strings.Join(want, "\n"), strings.Join(got, "\n"))
		return
	}
	t.Logf("AXFR %s: %d records identical (error: %v)", zone, len(want), werr)
}

// TestDnsmasqDiffAuthAXFR: zone transfers over TCP are refused unless
// auth-sec-servers or auth-peer is given, and with auth-peer refused to
// other clients; the transfer holds the SOA, the NS set and the zone's
// records (addresses only inside its subnets, no synth-domain, no
// ptr-record); reverse zones are never transferred.
func TestDnsmasqDiffAuthAXFR(t *testing.T) {
	conf := strings.NewReplacer("{DIR}/hosts", repoFile(t, "integration/testdata/dnsmasq")+"/auth-hosts", "server={UP1}\n", "").Replace(authZoneConf)
	for _, c := range []struct{ name, extra string }{
		{"sec-servers", ""},
		{"no-secondary", "-auth-sec-servers"},
		{"peer-other", "auth-peer=127.0.0.2"},
		{"peer-self", "auth-peer=127.0.0.2,127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cf := conf
			if c.extra == "-auth-sec-servers" {
				cf = strings.Replace(cf, "auth-sec-servers=ns2.other.test,ns3.zone.test\n", "", 1)
			} else {
				cf += c.extra + "\n"
			}
			p := startDNSPair(t, cf, cf)
			diffAXFR(t, p, "zone.test.")
			diffAXFR(t, p, "5.168.192.in-addr.arpa.")
			diffAXFR(t, p, "www.zone.test.")
			diffAXFR(t, p, "other.test.")
		})
	}
	// A zone larger than one message.
	big := conf
	for i := 1; i <= 250; i++ {
		big += fmt.Sprintf("host-record=h%d.zone.test,192.168.5.%d,fd00:5::%x\n", i, i%128, i)
	}
	diffAXFR(t, startDNSPair(t, big, big), "zone.test.")
	// auth-peer also allows transfers on an address that is not the
	// auth-server's; such a local transfer is not filtered by the subnets.
	cf := strings.Replace(conf, "auth-server=ns1.zone.test,127.0.0.1", "auth-server=ns1.zone.test,127.0.0.2", 1) + "auth-peer=127.0.0.1\n"
	diffAXFR(t, startDNSPair(t, cf, cf), "zone.test.")
}

// TestDnsmasqDiffAuthMore: expand-hosts names in the zone, an auth-server
// interface limited to IPv6 (so 127.0.0.1 is an ordinary address), EDNS0,
// TCP, and AXFR asked over UDP.
func TestDnsmasqDiffAuthMore(t *testing.T) {
	conf := `
no-resolv
no-hosts
addn-hosts={DIR}/hosts
expand-hosts
domain=zone.test
server={UP1}
auth-server=ns1.zone.test,127.0.0.1
auth-zone=zone.test,192.168.5.0/24
auth-soa=1
auth-sec-servers=ns2.other.test
auth-ttl=0
host-record=www.zone.test,192.168.5.10
`
	diffScenarioFiles(t, conf, map[string]string{"hosts": authHosts},
		"plainhost.zone.test. A", "plainhost. A", "31.5.168.192.in-addr.arpa. PTR", "www.zone.test. A edns4096",
		"www.zone.test. A tcp", "zone.test. SOA tcp edns1232", "zone.test. AXFR tcp", "www.zone.test. TXT",
		"nx.zone.test. A edns512", "version.bind. TXT ch", "zone.test. SOA ch")
	v6 := strings.Replace(conf, "auth-server=ns1.zone.test,127.0.0.1", "auth-server=ns1.zone.test,lo/6", 1)
	diffScenarioFiles(t, v6, map[string]string{"hosts": authHosts},
		"zone.test. SOA", "zone.test. NS", "www.zone.test. A", "nx.zone.test. A", "plainhost.zone.test. A",
		"10.5.168.192.in-addr.arpa. PTR", "www.example.com. A", "version.bind. TXT ch", "zone.test. SOA ch")
	// selfmx / localmx MX records are not zone data.
	for _, mx := range []string{"selfmx", "localmx\nmx-target=mx.zone.test"} {
		diffScenarioFiles(t, conf+mx+"\n", map[string]string{"hosts": authHosts}, "www.zone.test. MX", "h1.zone.test. MX", "zone.test. AXFR tcp")
	}
	// Neither answers a zone transfer over UDP.
	conf = strings.ReplaceAll(strings.ReplaceAll(conf, "{UP1}", "127.0.0.1#9"), "addn-hosts={DIR}/hosts\n", "")
	p := startDNSPair(t, conf, conf)
	for _, addr := range []string{p.dnsmasq, p.frontdesk} {
		m := new(dns.Msg)
		m.SetQuestion("zone.test.", dns.TypeAXFR)
		c := &dns.Client{Timeout: 700 * time.Millisecond}
		if r, _, err := c.Exchange(m, addr); err == nil {
			t.Errorf("%s answered AXFR over UDP: %v", addr, r)
		}
	}
}

// TestDnsmasqDiffAuthReverse: reverse zones of subnets that are not on a
// label boundary are named after the subnet rounded down for IPv4 (/20 →
// x.y, /26 → x.y.z) and up for IPv6 (/50 → 13 nibbles), but only names whose
// address (padded with zeros) is inside the subnet itself are answered; the
// others are refused.
func TestDnsmasqDiffAuthReverse(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
auth-server=ns1.zone.test,127.0.0.1
auth-zone=zone.test,10.20.0.0/20,192.168.7.64/26,fd00:7::/50
auth-soa=5
host-record=a.zone.test,10.20.3.4
host-record=b.zone.test,10.20.30.4
host-record=c.zone.test,192.168.7.70
host-record=d.zone.test,192.168.7.10
host-record=e.zone.test,fd00:7:0:1::5
host-record=f.zone.test,fd00:7:0:c000::5
host-record=g.zone.test,fd00:7:0:1000::5
synth-domain=zone.test,10.99.0.0/24,s-
synth-domain=zone.test,10.20.1.0/24,t-
cname=cf.zone.test,b.zone.test
cname=ct.zone.test,a.zone.test,99
`
	diffScenario(t, conf, "20.10.in-addr.arpa. SOA", "20.10.in-addr.arpa. NS", "20.10.in-addr.arpa. PTR", "10.in-addr.arpa. SOA",
		"3.20.10.in-addr.arpa. SOA", "3.20.10.in-addr.arpa. NS", "4.3.20.10.in-addr.arpa. SOA", "20.10.in-addr.arpa. A",
		"3.20.10.in-addr.arpa. PTR",
		"4.3.20.10.in-addr.arpa. PTR", "4.30.20.10.in-addr.arpa. PTR", "7.168.192.in-addr.arpa. SOA",
		"70.7.168.192.in-addr.arpa. PTR", "10.7.168.192.in-addr.arpa. PTR", "64.7.168.192.in-addr.arpa. PTR",
		"0.0.0.0.7.0.0.0.0.0.d.f.ip6.arpa. SOA", "0.0.0.0.0.7.0.0.0.0.0.d.f.ip6.arpa. SOA",
		"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.7.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"5.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.7.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.0.0.0.0.7.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"b.zone.test. A", "d.zone.test. A", "e.zone.test. AAAA", "f.zone.test. AAAA",
		"s-10-99-0-1.zone.test. A", "t-10-20-1-5.zone.test. A", "5.1.20.10.in-addr.arpa. PTR", "cf.zone.test. A", "ct.zone.test. A")
}
