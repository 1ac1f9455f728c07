package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDnsmasqDiffAddressServer covers address=, local=, server= in all
// their forms, rev-server= and the domain-precedence rules.
func TestDnsmasqDiffAddressServer(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
address=/example.local/1.2.3.4
address=/dual.test/1.2.3.5
address=/dual.test/fd00::5
address=/nxd.test/
address=/null.test/#
local=/loc.test/
server=/loc2.test/
address=/b.test/5.5.5.5
server=/a.b.test/{UP2}
address=/c.test/6.6.6.6
server=/s.c.test/#
server=/other.test/{UP2}
server=/*wild.test/{UP2}
address=/*.sub.test/7.7.7.1
address=/.dot.test/7.7.7.2
server=//{UP2}
rev-server=10.20.0.0/16,{UP2}
rev-server=10.30.0.0/16
address=/nodata.test/8.8.8.8
local=/nodata.test/
address=/two.test/three.test/9.9.9.9
address=/dual2.test/fd00::6
address=/dual2.test/1.2.3.6
address=/dual3.test/1.2.3.7
address=/dual3.test/1.2.3.8
`
	diffScenario(t, conf,
		"Foo.Example.LOCAL. A", "example.local. A", "x.y.example.local. A", "x.y.example.local. AAAA",
		"badexample.local. A", "nx.example.local. AAAA", "nodata.example.local. AAAA", "example.local. MX",
		"example.local. ANY", "example.local. TXT", "nx.example.local. MX",
		"dual.test. A", "dual.test. AAAA", "www.dual.test. ANY",
		"nxd.test. A", "x.nxd.test. MX", "null.test. A", "null.test. AAAA", "x.null.test. MX", "nx.null.test. TXT",
		"loc.test. A", "x.loc.test. AAAA", "loc2.test. MX", "loc2.test. ANY",
		"b.test. A", "a.b.test. A", "x.a.b.test. A", "c.test. A", "s.c.test. A", "x.s.c.test. AAAA",
		"other.test. A", "x.other.test. TXT", "wild.test. A", "superwild.test. A", "x.wild.test. A",
		"sub.test. A", "x.sub.test. A", "dot.test. A", "x.dot.test. A",
		"plain. A", "plain. MX",
		"4.3.20.10.in-addr.arpa. PTR", "4.3.30.10.in-addr.arpa. PTR", "4.3.40.10.in-addr.arpa. PTR",
		"nodata.test. A", "nodata.test. AAAA", "x.nodata.test. MX",
		"two.test. A", "three.test. A", "null.test. ANY", "dual2.test. ANY", "dual2.test. A", "dual3.test. A", "dual3.test. ANY",
		"unknown.test. A", "nx.unknown.test. A", "nodata.unknown.test. A", "servfail.x.test. A",
	)
}

// TestDnsmasqDiffRecords covers the local record options, hosts files and
// the CNAME chains through them.
func TestDnsmasqDiffRecords(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
addn-hosts={TESTDATA}/extra.hosts
hostsdir={TESTDATA}/hostsdir
expand-hosts
domain=lan
local=/lan/
address=/nxl.test/
host-record=h.nxl.test,10.4.4.4
address=/addr.test/10.3.3.3
cname=to-addr.test,www.addr.test
host-record=h4.test,7.7.7.8
host-record=hr.test,hr-alias.test,7.7.7.7,fd00::7
host-record=ttl.test,7.7.7.9,42
address=/exact.addr.test/1.1.1.1
cname=c1.test,h4.test
cname=c2.test,c1.test,600
cname=c3.test,chain.upstream.test
cname=c4.test,fromhosts.test
txt-record=txt.test,"hello, world","x y"
txt-record=empty.txt.test
txt-record=txt.test,second
txt-record=sp.test, "two words"
txt-record=sp2.test,  a   b  
mx-host=mx.test,mail.test,5
mx-host=m2.test,,7
mx-host=mx.test,mail2.test
srv-host=_http._tcp.srv.test,web.test,80,1,2
srv-host=_http._tcp.srv.test,web2.test,8080
srv-host=_none._tcp.srv.test
ptr-record=4.3.2.1.in-addr.arpa,ptr.test
ptr-record=_http._tcp.dns-sd.test,"Web Server._http._tcp.dns-sd.test"
naptr-record=naptr.test,100,10,U,E2U+sip,!^.*$!sip:info@example.com!
naptr-record=naptr.test,102,10,S,SIP+D2U,,_sip._udp.example.com
caa-record=caa.test,0,issue,letsencrypt.org
caa-record=caa.test,128,iodef,mailto:sec@example.com
dns-rr=rr.test,65280,0A0B0C
dns-rr=rr.test,99,01:02
`
	diffScenario(t, conf,
		"fromhosts.test. A", "fromhosts.test. AAAA", "FH-Alias.test. A", "fromhosts.test. MX", "nx.fromhosts.test. A",
		"plainhost. A", "plainhost.lan. A", "plainhost.lan. AAAA", "plainhost.lan. MX", "unknown.lan. A", "to-addr.test. A", "h.nxl.test. A", "h.nxl.test. AAAA", "x.nxl.test. A", "dirhost.test. A", "5.5.5.10.in-addr.arpa. PTR", "6.5.5.10.in-addr.arpa. PTR",
		"5.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR",
		"exact.addr.test. A", "x.exact.addr.test. A",
		"h4.test. A", "h4.test. AAAA", "nx.h4.test. AAAA", "hr.test. A", "hr.test. AAAA", "hr-alias.test. A", "hr.test. ANY",
		"7.7.7.7.in-addr.arpa. PTR", "ttl.test. A",
		"c1.test. A", "C2.test. A", "c2.test. CNAME", "c3.test. A", "c4.test. A", "c4.test. AAAA", "c1.test. TXT",
		"txt.test. TXT", "empty.txt.test. TXT", "sp.test. TXT", "sp2.test. TXT", "txt.test. A", "txt.test. ANY",
		"mx.test. MX", "m2.test. MX", "mx.test. A",
		"_http._tcp.srv.test. SRV", "_none._tcp.srv.test. SRV",
		"4.3.2.1.in-addr.arpa. PTR", "_http._tcp.dns-sd.test. PTR",
		"naptr.test. NAPTR", "caa.test. CAA", "rr.test. TYPE65280", "rr.test. TYPE99",
		"txt.test. TXT tcp", "hr.test. A edns1232", "hr.test. AAAA tcp edns4096",
	)
}

// TestDnsmasqDiffSafety covers domain-needed, bogus-priv, stop-dns-rebind
// (with rebind-localhost-ok and rebind-domain-ok), bogus-nxdomain and the
// TTL options for local answers.
func TestDnsmasqDiffSafety(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
domain-needed
bogus-priv
stop-dns-rebind
rebind-localhost-ok
rebind-domain-ok=/ok.test/fine.test/
bogus-nxdomain=10.9.9.9
local-ttl=7
max-ttl=5
host-record=h.test,10.7.7.7
host-record=h2.test,10.7.7.8,3
address=/a.test/1.2.3.4
rev-server=192.168.50.0/24,{UP1}
`
	diffScenario(t, conf,
		"plain. A", "plain. AAAA", "plain. MX",
		"1.1.168.192.in-addr.arpa. PTR", "1.0.0.10.in-addr.arpa. PTR", "1.0.16.172.in-addr.arpa. PTR", "1.50.168.192.in-addr.arpa. PTR",
		"8.8.8.8.in-addr.arpa. PTR", "1.0.0.127.in-addr.arpa. PTR",
		"priv.x.test. A", "priv.ok.test. A", "priv.fine.test. A", "lo.x.test. A",
		"bogus.x.test. A", "bogus.x.test. MX", "y.test. A",
		"h.test. A", "h2.test. A", "a.test. A", "x.a.test. A",
	)
}

// TestDnsmasqDiffNoUpstream checks the answers without any upstream server:
// REFUSED for what would be forwarded, local data as usual.
func TestDnsmasqDiffNoUpstream(t *testing.T) {
	diffScenario(t, `
no-resolv
no-hosts
address=/a.test/1.2.3.4
local=/l.test/
`,
		"a.test. A", "a.test. AAAA", "a.test. MX", "other.test. A", "x.l.test. A", "plain. A",
	)
}

// TestDnsmasqDiffCache repeats questions so that answers come from the
// cache: positive and negative answers, NXDOMAIN for every type of a name,
// ANY never cached, TTLs counting down, min-cache-ttl and max-cache-ttl.
func TestDnsmasqDiffCache(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
cache-size=100
max-cache-ttl=120
min-cache-ttl=5
`
	diffScenario(t, conf,
		"y.test. A", "y.test. A", "Y.Test. A", "y.test. AAAA", "y.test. AAAA",
		"nx.a.test. A", "nx.a.test. A", "nx.a.test. MX", "NX.A.TEST. AAAA",
		"nodata.b.test. A", "nodata.b.test. A", "nodata.b.test. MX",
		"y.test. ANY", "y.test. ANY",
		"chain.c.test. A", "chain.c.test. A", "target.chain.example. A",
		"short.d.test. A", "short.d.test. A sleep1100ms", "short.d.test. A sleep2s",
		"y.test. A", "servfail.e.test. A", "servfail.e.test. A",
		"m.test. MX", "m.test. MX", "t.test. TXT", "t.test. TXT", "1.2.3.4.in-addr.arpa. PTR", "1.2.3.4.in-addr.arpa. PTR",
		"s.test. SRV", "s.test. SRV", "nodata.f.test. MX", "nodata.f.test. MX", "nodata.f.test. SRV", "nodata.f.test. SRV",
		"nx.g.test. TXT", "nx.g.test. TXT", "nx.g.test. A", "nx.h.test. SRV", "nx.h.test. TXT", "nx.h.test. PTR",
		"nodata.i.test. CAA", "nodata.i.test. CAA", "chain.j.test. TXT", "chain.j.test. TXT",
	)
}

// TestDnsmasqDiffNoNegcache checks no-negcache and neg-ttl.
func TestDnsmasqDiffNoNegcache(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
no-negcache
`
	diffScenario(t, conf, "nx.a.test. A", "nx.a.test. A", "nodata.b.test. A", "nodata.b.test. A", "y.test. A", "y.test. A sleep1100ms")
}

// TestDnsmasqDiffTruncation checks EDNS0 and truncation: a forwarded answer
// larger than 512 bytes comes back with TC over UDP without EDNS0, whole
// with a large EDNS0 buffer and over TCP; edns-packet-max bounds the
// buffer.
func TestDnsmasqDiffTruncation(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
edns-packet-max=1400
txt-record=local-big.test,"` + strings.Repeat("a", 200) + `","` + strings.Repeat("b", 200) + `","` + strings.Repeat("c", 200) + `"
`
	diffScenario(t, conf,
		"big.x.test. TXT", "big.x.test. TXT edns4096", "big.x.test. TXT tcp", "big.y.test. TXT edns4096", "big.z.test. TXT edns1232",
		"local-big.test. TXT", "local-big.test. TXT edns1232", "local-big.test. TXT tcp", "y.test. A edns512",
		// A forwarded answer larger than the client's buffer: TC, no records.
		"big.w.test. TXT edns600", "big.v.test. TXT edns512",
	)
}

// TestDnsmasqDiffFailover checks all-servers with the first upstream down
// (nothing listens on its port): the answer comes from the second one.
// (strict-order with a dead first server is not differential: dnsmasq moves
// to the next server only when the client retries; see
// TestDnsmasqStrictOrderFailover.)
func TestDnsmasqDiffFailover(t *testing.T) {
	conf := "no-resolv\nno-hosts\nall-servers\nserver={DEAD}\nserver={UP2}\n"
	diffScenario(t, conf, "y.test. A", "z.test. AAAA", "nx.q.test. A")
}

// TestDnsmasqDiffNegTTL: neg-ttl caches a negative answer that has no SOA;
// cache-size=0 turns the cache off.
func TestDnsmasqDiffNegTTL(t *testing.T) {
	t.Run("neg-ttl", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nneg-ttl=60\n",
			"nosoa.a.test. A", "nosoa.a.test. A sleep1100ms", "nosoa.a.test. MX")
	})
	t.Run("cache-size=0", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\ncache-size=0\n",
			"y.test. A", "y.test. A sleep1100ms", "nx.y.test. A", "nx.y.test. A sleep1100ms")
	})
}

// TestDnsmasqDiffCatchAll covers address=/#/: every name not answered
// locally or sent to a more specific server.
func TestDnsmasqDiffCatchAll(t *testing.T) {
	diffScenario(t, `
no-resolv
no-hosts
address=/#/10.10.10.10
server=/fwd.test/{UP1}
host-record=h.test,10.0.0.7
address=/nx.test/
`,
		"anything.example. A", "anything.example. AAAA", "anything.example. MX", "plain. A",
		"x.fwd.test. A", "h.test. A", "x.nx.test. A",
	)
}

// TestDnsmasqDiffFilterCacheRR covers filter-A, filter-AAAA, filter-rr
// (with ANY), cache-rr and no-round-robin.
func TestDnsmasqDiffFilterCacheRR(t *testing.T) {
	t.Run("filter-AAAA,filter-rr", func(t *testing.T) {
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
filter-AAAA
filter-rr=MX,ANY
address=/loc.test/fd00::9
host-record=h.test,1.1.1.1,fd00::1
`, "y.test. AAAA", "y.test. AAAA", "y.test. A", "y.test. MX", "y.test. TXT", "loc.test. AAAA", "h.test. AAAA", "h.test. ANY",
			"y.test. ANY", "nodata.test. AAAA", "chain.x.test. A", "chain.x.test. ANY")
	})
	t.Run("filter-A,cache-rr", func(t *testing.T) {
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
filter-A
cache-rr=MX,TXT
no-round-robin
`, "y.test. A", "y.test. A", "y.test. AAAA", "m.test. MX", "m.test. MX", "t.test. TXT", "t.test. TXT", "nodata.a.test. MX", "nodata.a.test. MX",
			"multi.test. AAAA", "chain.z.test. A")
	})
	t.Run("round-robin", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\n", "multi.test. A", "multi.test. A", "multi.test. A", "multi.test. A")
	})
}

// TestDnsmasqDiffServersFile covers servers-file.
func TestDnsmasqDiffServersFile(t *testing.T) {
	diffScenarioFiles(t, "no-resolv\nno-hosts\nserver={UP1}\nservers-file={DIR}/servers.conf\n",
		map[string]string{"servers.conf": "server=/sf.test/{UP2}\nrev-server=10.99.0.0/16,{UP2}\n"},
		"x.sf.test. A", "y.test. A", "1.2.99.10.in-addr.arpa. PTR")
}

// TestDnsmasqDiffHostsLongLine: a hosts line of any length loads whole,
// with the lines around it (dnsmasq reads hosts files a token at a time; a
// 64 KiB line once made Frontdesk skip the whole file). The long line has
// 8,000 aliases of one address, about 90 KiB.
func TestDnsmasqDiffHostsLongLine(t *testing.T) {
	var long strings.Builder
	long.WriteString("10.9.0.2")
	for i := range 8000 {
		fmt.Fprintf(&long, " alias%d.long.test", i)
	}
	hosts := "10.9.0.1 before.long.test\n" + long.String() + "\n10.9.0.3 after.long.test # comment\n"
	diffScenarioFiles(t, "no-resolv\nno-hosts\nserver={UP1}\naddn-hosts={DIR}/long.hosts\n",
		map[string]string{"long.hosts": hosts},
		"before.long.test. A", "alias0.long.test. A", "alias7999.long.test. A", "after.long.test. A",
		"2.0.9.10.in-addr.arpa. PTR", "3.0.9.10.in-addr.arpa. PTR")
}

// TestDnsmasqDiffOddNames: names dnsmasq takes in every option (its
// check_name refuses only control characters and over-long labels), with
// hashes, slashes, '@' and parentheses, in rules, records, CNAMEs and hosts
// files, answer as dnsmasq answers them (Frontdesk refused them once).
func TestDnsmasqDiffOddNames(t *testing.T) {
	diffScenarioFiles(t, "no-resolv\nno-hosts\nserver={UP1}\naddn-hosts={DIR}/odd.hosts\naddress=/x@y.test/1.2.3.7\n"+
		"host-record=a#b.test,1.2.3.5\nhost-record=c.test,1.2.3.6\ncname=a/b.test,c.test\nlocal=/l#o.test/\n"+
		"txt-record=t/x.test,one\nmx-host=m@x.test,c.test,5\n",
		map[string]string{"odd.hosts": "10.0.0.9 h@st.test p(q).test\n"},
		"x@y.test. A", "sub.x@y.test. A", "a#b.test. A", "a/b.test. A", "h@st.test. A", "p(q).test. A",
		"9.0.0.10.in-addr.arpa. PTR", "z.l#o.test. A", "t/x.test. TXT", "m@x.test. MX")
}

// TestDnsmasqDiffAddressEmptyDomain: address=// with an empty domain is a
// rule for dotless names, as server=// is; dnsmasq takes the empty domain
// beside others too (address=//lan/...), and spaces before the address.
func TestDnsmasqDiffAddressEmptyDomain(t *testing.T) {
	diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\naddress=//1.2.3.4\naddress=//lan/fe80::1\naddress=/sp.test/ 10.0.0.7\nserver=/up.test/ {UP1}\n",
		"plain. A", "plain. AAAA", "plain. MX", "plain. TXT", "x.lan. A", "x.lan. AAAA", "x.lan. MX", "lan. AAAA", "a.b. A", "sp.test. A", "x.up.test. A")
}

// TestDnsmasqDiffHostsForms: hosts lines as real files write them —
// tabs, Windows line ends, leading blanks, '#' comments inside a line, a
// duplicate name — and addresses as inet_pton reads them: a zone skips the
// line, an IPv4-mapped IPv6 address stays IPv6 (AAAA, PTR under ip6.arpa),
// in address= too.
func TestDnsmasqDiffHostsForms(t *testing.T) {
	hosts := "10.0.0.1 a#b c.test\n10.0.0.2\tTabbed.Test  alias.test.\r\n  10.0.0.3 lead.test\n" +
		"fe80::1%eth0 zone.test\n::ffff:10.0.0.5 mapped.test\n10.0.0.9 dup.test\n10.0.0.10 dup.test\n" +
		"10.0.0.12 x.test # comment y.test\n010.000.000.014 octal.test\n"
	diffScenarioFiles(t, "no-resolv\nno-hosts\nserver={UP1}\naddn-hosts={DIR}/forms.hosts\naddress=/m.test/::ffff:1.2.3.4\n",
		map[string]string{"forms.hosts": hosts},
		"a. A", "c.test. A", "tabbed.test. A", "alias.test. A", "lead.test. A", "zone.test. AAAA", "mapped.test. A",
		"mapped.test. AAAA", "dup.test. A", "x.test. A", "y.test. A", "octal.test. A", "1.0.0.10.in-addr.arpa. PTR",
		"5.0.0.10.in-addr.arpa. PTR", "5.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR",
		"m.test. A", "m.test. AAAA")
}

// TestDnsmasqDiffRecordText: record lines as real configurations write
// them — SPF, DKIM (over 255 bytes), DMARC, ENUM NAPTR rewrites with \1,
// CAA — with backslashes and quotes in the text reach the wire as dnsmasq
// sends them (a backslash was once read as an escape: \1 became 1).
func TestDnsmasqDiffRecordText(t *testing.T) {
	diffScenario(t, `no-resolv
no-hosts
server={UP1}
txt-record=example.test,"v=spf1 include:_spf.example.test ~all"
txt-record=sel._domainkey.example.test,"v=DKIM1; k=rsa; p=`+strings.Repeat("MIIBIjANBgkqhkiG9w0B", 16)+`"
txt-record=_dmarc.example.test,v=DMARC1; p=none; rua=mailto:d@example.test
txt-record=multi.test,"first string","second, with comma",third
txt-record=esc.test,"a\"b\\c",a\065
caa-record=example.test,0,issue,"letsencrypt.org"
caa-record=example.test,128,iodef,"mailto:sec@example.test"
naptr-record=enum.test,100,10,"U","E2U+sip","!^(.*)$!sip:\\1@example.test!",.
`, "example.test. TXT", "sel._domainkey.example.test. TXT", "_dmarc.example.test. TXT", "multi.test. TXT", "esc.test. TXT",
		"example.test. CAA", "enum.test. NAPTR", "example.test. ANY")
}

// TestDnsmasqDiffMX covers mx-target, selfmx and localmx.
func TestDnsmasqDiffMX(t *testing.T) {
	t.Run("selfmx", func(t *testing.T) {
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
addn-hosts={TESTDATA}/extra.hosts
host-record=hr.test,10.8.8.8
mx-host=fromhosts.test,own-mx.test,9
selfmx
`, "fromhosts.test. MX", "fh-alias.test. MX", "plainhost. MX", "hr.test. MX", "exact.addr.test. MX", "fh-alias.test. ANY", "other.test. MX")
	})
	t.Run("localmx,mx-target", func(t *testing.T) {
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
addn-hosts={TESTDATA}/extra.hosts
host-record=hr.test,10.8.8.8
mx-host=m.test
mx-host=m2.test,,3
mx-target=mx.example.net
localmx
`, "fh-alias.test. MX", "hr.test. MX", "m.test. MX", "m2.test. MX", "other.test. MX")
	})
	t.Run("mx-target alone", func(t *testing.T) {
		host, err := os.Hostname()
		if err != nil {
			t.Fatal(err)
		}
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nmx-target=mx.example.net\n", "m.test. MX", "other.test. MX", host+". MX", host+". A")
	})
}

// TestDnsmasqDiffAliasWin2k covers alias= (DNS doctoring) and filterwin2k.
func TestDnsmasqDiffAliasWin2k(t *testing.T) {
	diffScenario(t, `
no-resolv
no-hosts
server={UP1}
alias=10.0.0.1,172.16.5.5
alias=10.2.0.1-10.2.0.2,10.40.0.0,255.255.255.0
alias=10.1.1.0,10.50.50.0,255.255.255.0
host-record=h.test,10.0.0.1
filterwin2k
`, "y.test. A", "y.test. A", "multi.test. A", "chain.x.test. A", "h.test. A", "y.test. AAAA",
		"y.test. SRV", "_ldap._tcp.x.test. ANY", "_ldap._tcp.x.test. SRV", "x.test. SOA", "x.test. ANY", "x.test. MX")
}

// TestDnsmasqDiffOddQueries covers unusual questions: zone transfers,
// meta types, the root, long and escaped names.
func TestDnsmasqDiffOddQueries(t *testing.T) {
	diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\naddress=/a.test/1.2.3.4\n",
		"a.test. AXFR tcp", "a.test. IXFR", "y.test. AXFR tcp", ". NS", ". A", "a.test. OPT",
		"y.test. NULL", "a.test. HINFO", "x\\.y.a.test. A", "a.test. MAILB", "y.test. TYPE65535", "y.test. MAILB", "a.test. MAILA", "y.test. MAILA", "x.a.test. MAILB")
}

// TestDnsmasqDiffUseStaleCache covers use-stale-cache: an expired cached
// answer is still given (TTL 0) and refreshed from upstream after it, so the
// next question gets the new one; with =n, not when it expired more than n
// seconds ago. (dnsmasq counts expiry in whole seconds: the sleeps keep well
// away from the boundaries.)
func TestDnsmasqDiffUseStaleCache(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nuse-stale-cache\nneg-ttl=1\n",
			"short.s.test. A", "nosoa.s.test. A", "short.s.test. A sleep3500ms", "nosoa.s.test. A", "short.s.test. A sleep300ms",
			"nosoa.s.test. A", "short.s.test. AAAA", "short.s.test. MX",
		)
	})
	t.Run("max-excess", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nuse-stale-cache=3\n",
			"short.u.test. A", "short.v.test. A", "short.v.test. A sleep3500ms", "short.v.test. A sleep300ms",
			"short.u.test. A sleep4000ms", "short.u.test. A",
		)
	})
}
