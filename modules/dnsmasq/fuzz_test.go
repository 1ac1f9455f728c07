package dnsmasq

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// FuzzParseLines feeds arbitrary configuration text to the parser: it must
// return a config or an error, never panic.
func FuzzParseLines(f *testing.F) {
	for _, s := range []string{
		"address=/myapp.local/127.0.0.1", "server=127.0.0.1#5399", "server=/a/b/#", "local=/x/", "server=//1.2.3.4",
		// dnsmasq's empty values, empty fields and doubled commas (emptyfields_test.go).
		"address=", "server=", "server=/#/", "server=/#/1.2.3.4", "address=1.2.3.4", "server=010.0.0.1", "cache-size=",
		"max-ttl=", "txt-record=", "ptr-record=a,,b", "cname=a,,b", "cname=a,b,5,", "cname=x,x", "host-record=a,,::1,",
		`caa-record=d,,0,,issue,,"ca"`, `naptr-record=n,,1,,U,,E,,!x!,,`, "dns-rr=r,99999999999,a:bc-d", "domain=lan,",
		"rebind-domain-ok=/lan//\nstop-dns-rebind", "filter-rr=MX,,", "mx-target=", "srv-host=s,t,,,",
		"address=/#/1.2.3.4", "address=/*.x/#", "rev-server=10.0.0.0/8,127.0.0.1", "rev-server=fd00::/12",
		"host-record=a,b,1.2.3.4,::1,5", "host-record=v6,,fd00::99", "host-record=1.2.3.4,after", "host-record=a,42,1.2.3.4", "host-record=n,", "cname=a,b,c,10", `txt-record=a,"b, c",d`, "mx-host=m,,5", "srv-host=_a._b.c",
		"ptr-record=a,\"b c\"", "naptr-record=n,1,2,U,E2U,!x!", "caa-record=c,0,issue,x", "dns-rr=r,1,0a:0b",
		"port=53", "listen-address=127.0.0.1,::1", "bogus-nxdomain=1.2.3.0/24", "rebind-domain-ok=/a/b/",
		"domain=lan", "cache-size=10", "log-queries=extra", "dhcp-range=1,2", "# comment", `a="unterminated`,
		"synth-domain=s.lan,10.0.0.0/24,h-", "synth-domain=s.lan,10.0.0.5,10.0.0.9,n*", "synth-domain=v.lan,fd00::/64,x*",
		"ignore-address=10.0.0.0/8", "no-ident", "log-debug", "max-tcp-connections=3",
		"use-stale-cache=5", "auth-server=ns.z,127.0.0.1,lo/4", "auth-zone=z,10.0.0.0/8,fd00::,exclude:10.9.0.0/16",
		"auth-soa=1,admin@z,2,3,4", "auth-sec-servers=a.b,c.d", "auth-peer=127.0.0.2,::1", "auth-ttl=30",
		"use-stale-cache=5", "interface-name=i.test,lo/4", "dynamic-host=d.test,0.0.0.5,::7,lo", "dynamic-host=d.test,::1,lo",
		"domain=l.test,192.168.0.0/23,local", "domain=l.test,10.0.0.1,10.0.0.9", "domain=l.test,fd00::/61,local",
		"localise-queries", "dumpfile=/dev/null", "dumpmask=0x3", "enable-dbus", "enable-ubus=x",
		"dnssec\ntrust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
		"proxy-dnssec", "dnssec-check-unsigned=no", "dnssec-no-timecheck", "dnssec-debug", "dnssec-limits=1,,3,4,5",
		"trust-anchor=example.com,1,8,2,E0 6D",
		"add-subnet=24,56", "add-subnet=1.2.3.4/24,fd00::/48", "add-subnet", "strip-subnet",
		"add-mac=base64", "strip-mac", "add-cpe-id=x", "umbrella=deviceid:0123456789abcdef,orgid:1,assetid:2",
		"query-port=0", "port-limit=3", "fast-dns-retry=200,1000", "dns-loop-detect",
		"server=127.0.0.1#53@127.0.0.2#5353", "server=/x/::1@lo@::1", "server=1.2.3.4@",
		"ipset=/a/b/s4,s6", "ipset=/#/all", "ipset=//x", "ipset=/*w/s", "ipset=x", "ipset=/a/s,,t",
		"nftset=/a/4#inet#t#s,6#t#s6", "nftset=/a/ip#t#s", "nftset=/a/7#t#s", "nftset=/a/x",
		"connmark-allowlist-enable", "connmark-allowlist-enable=12", "connmark-allowlist=4/4,*.a.example/a*b*.x.com",
		"connmark-allowlist=8,*", "connmark-allowlist=5,a.local",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var lines []Line
		for i, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "conf-") || strings.Contains(l, "hosts") || strings.Contains(l, "resolv") {
				continue // no file access while fuzzing
			}
			lines = append(lines, Line{File: "fuzz", Line: i + 1, Text: l})
		}
		c, err := ParseLines(lines)
		if err == nil {
			// building the answer data must not panic either
			newStore(c, nil).addIfaceNames(resolveIfaceNames(c.IfaceNames, loIfaces()))
		}
	})
}

// fuzzResolver has local data of every kind and no upstream server.
func fuzzResolver(t testing.TB) *resolver {
	var lines []Line
	for _, l := range []string{
		"no-resolv", "no-hosts", "address=/a.test/1.2.3.4", "address=/n.test/", "address=/z.test/#", "local=/l.test/",
		"host-record=h.test,10.0.0.1,fd00::1", "cname=c.test,h.test", "cname=c2.test,c.test", "txt-record=t.test,x",
		"mx-host=m.test,mail.test,1", "srv-host=_s._tcp.s.test,t.test,80", "ptr-record=1.0.0.10.in-addr.arpa,p.test",
		"bogus-priv", "domain-needed", "address=/*w.test/5.5.5.5",
		"synth-domain=s.test,10.1.0.0/16,h-", "synth-domain=q.test,fd00::/64,n*", "synth-domain=m.test,::ffff:0:0/96",
		"auth-server=ns.fz.test,127.0.0.1", "auth-zone=fz.test,10.2.0.0/16,fd00:2::/64,exclude:10.2.9.0/24",
		"auth-sec-servers=ns2.fz.test", "host-record=w.fz.test,10.2.0.1,fd00:2::1", "cname=*.wc.fz.test,w",
		"mx-host=fz.test,w.fz.test", "synth-domain=fz.test,10.2.0.0/16,s-",
	} {
		lines = append(lines, Line{Text: l})
	}
	c, err := ParseLines(lines)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(c, nil)
	return &resolver{cfg: c, store: s, cache: newCache(100), fwd: &forwarder{Client: exchange.Client{Timeout: 10 * time.Millisecond}},
		log: zap.NewNop(), stats: &stats{}, auth: newAuthData(c, s, nil)}
}

// FuzzAnswer feeds arbitrary wire messages to the query handler: whatever
// decodes must get a reply that packs, and nothing may panic.
func FuzzAnswer(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"a.test.", dns.TypeA}, {"X.A.Test.", dns.TypeAAAA}, {"c2.test.", dns.TypeA}, {"n.test.", dns.TypeMX},
		{"1.0.0.10.in-addr.arpa.", dns.TypePTR}, {"plain.", dns.TypeA}, {"h.test.", dns.TypeANY}, {"superw.test.", dns.TypeA},
		{"h-10-1-2-3.s.test.", dns.TypeA}, {"n42.q.test.", dns.TypeAAAA}, {"--ffff-1-2-3-4.m.test.", dns.TypeAAAA},
		{"3.2.1.10.in-addr.arpa.", dns.TypePTR}, {"version.bind.", dns.TypeTXT}, {"fz.test.", dns.TypeSOA},
		{"fz.test.", dns.TypeAXFR}, {"x.y.wc.fz.test.", dns.TypeA}, {"1.0.2.10.in-addr.arpa.", dns.TypePTR},
		{"2.10.in-addr.arpa.", dns.TypeNS}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		b, _ := m.Pack()
		f.Add(b)
		m.Question[0].Qclass = dns.ClassCHAOS
		b, _ = m.Pack()
		f.Add(b)
		m.Question[0].Qclass = dns.ClassINET
		m.SetEdns0(512, true)
		b, _ = m.Pack()
		f.Add(b)
	}
	f.Add([]byte{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01})
	r := fuzzResolver(f)
	client := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(b); err != nil {
			return // miekg's server drops what does not decode
		}
		for _, udp := range []bool{true, false} {
			// On an ordinary address and on the auth-server address.
			for _, local := range []netip.Addr{{}, netip.MustParseAddr("127.0.0.1")} {
				m := r.Answer(req, client, udp, local)
				if m == nil {
					continue
				}
				if _, err := m.Pack(); err != nil {
					t.Fatalf("reply does not pack: %v\n%v", err, m)
				}
			}
		}
	})
}
