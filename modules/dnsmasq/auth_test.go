package dnsmasq

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

func TestParseAuth(t *testing.T) {
	c, err := parse(t,
		"auth-server=ns1.zone.test,127.0.0.2,eth0/6,lo",
		"auth-zone=zone.test,192.168.5.7,fd00:5::/48,exclude:192.168.5.128/25",
		"auth-zone=free.test",
		"auth-soa=2024,admin@zone.test,1,2,3,4",
		"auth-sec-servers=ns2.other.test,NS3.zone.test.",
		"auth-peer=127.0.0.3,::1",
		"auth-ttl=30",
	)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Auth
	if a.Server != "ns1.zone.test" || len(a.Addrs) != 1 || a.Addrs[0] != netip.MustParseAddr("127.0.0.2") ||
		strings.Join(a.Ifaces, " ") != "eth0/6 lo" {
		t.Errorf("auth-server: %+v", a)
	}
	if len(a.Zones) != 2 || a.Zones[0].Domain != "zone.test" || len(a.Zones[1].Subnets) != 0 {
		t.Fatalf("auth-zone: %+v", a.Zones)
	}
	// A subnet without length is a /24 (IPv4) or /64 (IPv6).
	if got := a.Zones[0].Subnets; len(got) != 2 || got[0].String() != "192.168.5.0/24" || got[1].String() != "fd00:5::/48" {
		t.Errorf("subnets: %v", got)
	}
	if got := a.Zones[0].Exclude; len(got) != 1 || got[0].String() != "192.168.5.128/25" {
		t.Errorf("exclude: %v", got)
	}
	if !a.HasSerial || a.Serial != 2024 || a.Hostmaster != "admin.zone.test" || a.Refresh != 1 || a.Retry != 2 || a.Expiry != 3 {
		t.Errorf("auth-soa: %+v", a)
	}
	if strings.Join(a.Secondary, " ") != "ns2.other.test ns3.zone.test" || len(a.Peers) != 2 || a.TTL != 30 {
		t.Errorf("auth-sec-servers, auth-peer, auth-ttl: %+v", a)
	}

	d, err := parse(t, "auth-server=ns.test", "auth-zone=z.test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Auth.TTL != 600 || d.Auth.Refresh != 1200 || d.Auth.Retry != 180 || d.Auth.Expiry != 1209600 || d.Auth.HasSerial {
		t.Errorf("defaults: %+v", d.Auth)
	}

	for line, want := range map[string]string{
		"auth-zone=z.test":                  "auth-zone needs auth-server",
		"auth-server=":                      "missing argument to --auth-server",
		"auth-server=" + long64 + ".test":   "bad domain in --auth-server", // dnsmasq takes bad/name
		"auth-zone=z.test,1.2.3.4/40":       "bad subnet in --auth-zone",
		"auth-zone=z.test,eth0":             "bad subnet in --auth-zone",
		"auth-soa=x":                        "bad argument to --auth-soa",
		"auth-soa=1,a,b":                    "bad argument to --auth-soa",
		"auth-peer=foo":                     "bad address in --auth-peer",
		"auth-ttl=-1":                       "bad argument to --auth-ttl",
		"auth-sec-servers=a.test,,b.test":   "bad domain in --auth-sec-servers",
		"auth-server=ns.test,127.0.0.1/9":   "bad interface in --auth-server",
		"auth-zone=,1.2.3.0/24":             "bad domain in --auth-zone",
		"auth-server=ns.test\nauth-ttl=abc": "bad argument to --auth-ttl",
	} {
		_, err := parse(t, strings.Split(line, "\n")...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", line, err, want)
		}
	}
}

// long64 is a label one over the limit: a name dnsmasq's check_name
// refuses (it takes spaces, slashes and hashes).
var long64 = strings.Repeat("x", 64)

// authResolver is a resolver with an auth-zone whose auth-server address
// is 127.0.0.1.
func authResolver(t *testing.T, extra ...string) *resolver {
	t.Helper()
	var lines []Line
	for _, l := range append([]string{"no-resolv", "no-hosts", "auth-server=ns.z.test,127.0.0.1",
		"auth-zone=z.test,10.0.0.0/24", "auth-soa=9", "host-record=w.z.test,10.0.0.5", "host-record=o.z.test,10.9.0.5"}, extra...) {
		lines = append(lines, Line{Text: l})
	}
	c, err := ParseLines(lines)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(c, nil)
	return &resolver{cfg: c, store: s, cache: newCache(10), fwd: &forwarder{Client: exchange.Client{}}, log: zap.NewNop(), stats: &stats{}, auth: newAuthData(c, s, nil)}
}

func TestAuthAnswers(t *testing.T) {
	r := authResolver(t)
	auth := netip.MustParseAddr("127.0.0.1")
	client := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}
	ask := func(name string, qtype uint16, local netip.Addr) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		return r.Answer(m, client, false, local)
	}
	if m := ask("w.z.test.", dns.TypeA, auth); m.Rcode != dns.RcodeSuccess || !m.Authoritative || m.RecursionAvailable ||
		len(m.Answer) != 1 || len(m.Ns) != 1 || m.Answer[0].Header().Ttl != 600 {
		t.Errorf("w A on the auth address: %v", m)
	}
	// Outside the subnet: NODATA with the SOA; locally, the address.
	if m := ask("o.z.test.", dns.TypeA, auth); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("o A on the auth address: %v", m)
	}
	if m := ask("o.z.test.", dns.TypeA, netip.Addr{}); len(m.Answer) != 1 || m.Authoritative || !m.RecursionAvailable {
		t.Errorf("o A locally: %v", m)
	}
	if m := ask("nx.z.test.", dns.TypeA, auth); m.Rcode != dns.RcodeNameError || len(m.Ns) != 1 {
		t.Errorf("nx on the auth address: %v", m)
	}
	if m := ask("5.0.0.10.in-addr.arpa.", dns.TypePTR, auth); len(m.Answer) != 1 || m.Answer[0].(*dns.PTR).Ptr != "w.z.test." {
		t.Errorf("PTR: %v", m)
	}
	if m := ask("elsewhere.test.", dns.TypeA, auth); m.Rcode != dns.RcodeRefused {
		t.Errorf("out of zone: %v", m)
	}
	// No auth-sec-servers nor auth-peer: no transfer.
	if m := ask("z.test.", dns.TypeAXFR, auth); m.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR: %v", m)
	}
	r = authResolver(t, "auth-peer=127.0.0.9")
	if m := ask("z.test.", dns.TypeAXFR, auth); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 4 {
		t.Errorf("AXFR from a peer: %v", m)
	}
}
