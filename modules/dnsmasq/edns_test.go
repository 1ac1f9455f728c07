package dnsmasq

import (
	"context"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

func TestParseForwardOptions(t *testing.T) {
	c, err := parse(t, "add-subnet=24,1.2.3.4/16", "strip-subnet", "add-mac=base64", "strip-mac", "add-cpe-id=abc",
		"umbrella=orgid:1234,deviceid:0123456789abcdef,assetid:5678", "query-port=0", "port-limit=3",
		"fast-dns-retry=200", "dns-loop-detect", "server=127.0.0.1#53@127.0.0.2#5353", "server=/x/::1@lo@::1",
		"server=127.0.0.3@")
	if err != nil {
		t.Fatal(err)
	}
	e := c.EDNS
	if !e.AddSubnet || e.Subnet4 != (conf.SubnetSpec{Bits: 24}) || e.Subnet6 != (conf.SubnetSpec{Bits: 16, Fixed: netip.MustParseAddr("1.2.3.4")}) {
		t.Errorf("add-subnet: %+v %+v", e.Subnet4, e.Subnet6)
	}
	if !e.StripSubnet || e.AddMAC != "base64" || !e.StripMAC || e.CPEID != "abc" || !e.Umbrella || e.UmbrellaOrg != 1234 ||
		e.UmbrellaAsset != 5678 || hex.EncodeToString(e.UmbrellaDevice) != "0123456789abcdef" {
		t.Errorf("edns: %+v", e)
	}
	if !c.HasQueryPort || c.QueryPort != 0 || c.PortLimit != 3 || c.FastRetry != 200*time.Millisecond ||
		c.FastRetryFor != 10*time.Second || !c.LoopDetect {
		t.Errorf("ports/retry: %+v", c)
	}
	want := conf.Upstream{Addr: "127.0.0.1:53", Source: netip.MustParseAddrPort("127.0.0.2:5353")}
	if len(c.Servers) != 2 || c.Servers[0] != want || c.Servers[1] != (conf.Upstream{Addr: "127.0.0.3:53"}) {
		t.Errorf("servers: %+v", c.Servers)
	}
	if r := c.Rules[0].Servers[0]; r.Iface != "lo" || r.Source != netip.MustParseAddrPort("[::1]:0") {
		t.Errorf("server=/x/: %+v", r)
	}
	if c, _ := parse(t, "add-subnet", "add-mac", "fast-dns-retry"); c.EDNS.Subnet4.Bits != 0 || c.EDNS.AddMAC != "binary" || c.FastRetry != time.Second {
		t.Errorf("defaults: %+v", c)
	}
}

func opts(t *testing.T, lines []string, client string, in ...dns.EDNS0) ([]string, bool) {
	t.Helper()
	c, err := parse(t, lines...)
	if err != nil {
		t.Fatal(err)
	}
	var ca net.Addr
	if client != "" {
		ca = net.UDPAddrFromAddrPort(netip.MustParseAddrPort(client))
	}
	out, cacheable := forwardOptions(&c.EDNS, in, ca)
	var s []string
	for _, o := range out {
		m := new(dns.Msg)
		m.SetEdns0(512, false)
		m.IsEdns0().Option = []dns.EDNS0{o}
		w, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		// The option is the tail of the packed message: code, length, data.
		s = append(s, hex.EncodeToString(w[12+11:]))
	}
	return s, cacheable
}

// TestForwardOptions pins the option bytes measured on dnsmasq 2.90.
func TestForwardOptions(t *testing.T) {
	ecs := func(s string) dns.EDNS0 {
		p := netip.MustParsePrefix(s)
		e := &dns.EDNS0_SUBNET{Code: 8, Family: 1, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()}
		if p.Addr().Is6() {
			e.Family = 2
		}
		return e
	}
	cookie := &dns.EDNS0_LOCAL{Code: 10, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	cases := []struct {
		lines     []string
		client    string
		in        []dns.EDNS0
		want      []string
		cacheable bool
	}{
		{[]string{"add-subnet"}, "127.0.0.1:5", nil, []string{"0008000400010000"}, true},
		{[]string{"add-subnet=24,56"}, "127.0.0.1:5", nil, []string{"00080007000118007f0000"}, false},
		{[]string{"add-subnet=32"}, "127.0.0.1:5", nil, []string{"00080008000120007f000001"}, false},
		{[]string{"add-subnet=1.2.3.4/24"}, "127.0.0.1:5", nil, []string{"0008000700011800010203"}, true},
		{[]string{"add-subnet=24,56"}, "[fd00::1]:5", nil, []string{"0008000b00023800fd000000000000"}, false},
		{[]string{"add-subnet=24"}, "127.0.0.1:5", []dns.EDNS0{cookie, ecs("1.2.3.0/24")},
			[]string{"000a00080102030405060708", "0008000700011800010203"}, false},
		{[]string{"add-subnet=24", "strip-subnet"}, "127.0.0.1:5", []dns.EDNS0{ecs("1.2.3.0/24"), cookie},
			[]string{"000a00080102030405060708", "00080007000118007f0000"}, false},
		{[]string{"strip-subnet"}, "127.0.0.1:5", []dns.EDNS0{ecs("1.2.3.0/24"), cookie}, []string{"000a00080102030405060708"}, true},
		{[]string{"add-cpe-id=xy"}, "127.0.0.1:5", []dns.EDNS0{&dns.EDNS0_LOCAL{Code: 65074, Data: []byte{0xaa}}}, []string{"fe3200027879"}, true},
		{[]string{"umbrella"}, "127.0.0.1:5", nil, []string{"4f44000c4f444e53010000107f000001"}, false},
		{[]string{"umbrella=deviceid:0123456789abcdef,orgid:1234,assetid:5678"}, "127.0.0.1:5", nil,
			[]string{"4f4400224f444e5301000008000004d200107f00000100400123456789abcdef00040000162e"}, false},
		{[]string{"strip-mac"}, "127.0.0.1:5", []dns.EDNS0{&dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1}},
			&dns.EDNS0_LOCAL{Code: 65073, Data: []byte{2}}, &dns.EDNS0_LOCAL{Code: 65074, Data: []byte{3}}}, []string{"fe32000103"}, true},
		{[]string{"add-mac"}, "127.0.0.1:5", nil, nil, true}, // no MAC for a loopback client
		{[]string{"umbrella", "add-subnet=24", "add-cpe-id=xy", "strip-subnet"}, "127.0.0.1:5", []dns.EDNS0{ecs("1.2.3.0/24")},
			[]string{"fe3200027879", "4f44000c4f444e53010000107f000001", "00080007000118007f0000"}, false},
	}
	for _, c := range cases {
		got, cacheable := opts(t, c.lines, c.client, c.in...)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%v from %s: got %q, want %q", c.lines, c.client, got, c.want)
		}
		if cacheable != c.cacheable {
			t.Errorf("%v from %s: cacheable %v, want %v", c.lines, c.client, cacheable, c.cacheable)
		}
	}
}

// TestSubnetMatches: with add-subnet, a reply whose client subnet is not
// the one dnsmasq would add is dropped; no subnet, or another scope, is fine.
func TestSubnetMatches(t *testing.T) {
	e := &conf.EDNSConfig{AddSubnet: true, Subnet4: conf.SubnetSpec{Bits: 24}}
	want, _ := subnetOption(e, netip.MustParseAddr("127.0.0.1"))
	reply := func(o ...dns.EDNS0) *dns.Msg {
		m := new(dns.Msg)
		m.SetEdns0(4096, false)
		m.IsEdns0().Option = o
		return m
	}
	sub := func(addr string, bits, scope uint8) dns.EDNS0 {
		return &dns.EDNS0_SUBNET{Code: 8, Family: 1, SourceNetmask: bits, SourceScope: scope, Address: netip.MustParseAddr(addr).AsSlice()}
	}
	cases := []struct {
		m    *dns.Msg
		want bool
	}{
		{new(dns.Msg), true},
		{reply(), true},
		{reply(&dns.EDNS0_COOKIE{Code: 10, Cookie: "0102030405060708"}), true},
		{reply(sub("127.0.0.0", 24, 24)), true},
		{reply(sub("127.0.0.0", 24, 0)), true},
		{reply(sub("127.0.0.9", 24, 24)), true}, // bits past the length do not count
		{reply(sub("1.2.3.0", 24, 24)), false},
		{reply(sub("127.0.0.0", 16, 16)), false},
	}
	for i, c := range cases {
		if got := subnetMatches(c.m, want); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}

// TestSubnetMismatchKeepsListening: over UDP a reply with another client
// subnet is skipped and the right one that follows is taken.
func TestSubnetMismatchKeepsListening(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil {
			return
		}
		for _, a := range []string{"9.9.9.0", "127.0.0.0"} {
			m := new(dns.Msg)
			m.SetReply(q)
			m.SetEdns0(4096, false)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: 8, Family: 1, SourceNetmask: 24, SourceScope: 24, Address: net.ParseIP(a).To4()}}
			m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{a}}}
			b, _ := m.Pack()
			_, _ = pc.WriteTo(b, from)
		}
	}()
	e := &conf.EDNSConfig{AddSubnet: true, Subnet4: conf.SubnetSpec{Bits: 24}}
	want, _ := subnetOption(e, netip.MustParseAddr("127.0.0.1"))
	ctx := exchange.WithAccept(context.Background(), func(m *dns.Msg) bool { return subnetMatches(m, want) })
	q := new(dns.Msg)
	q.SetQuestion("a.test.", dns.TypeTXT)
	f := &forwarder{Client: exchange.Client{Timeout: time.Second, PortLimit: 1}}
	r, _, err := f.exchange(ctx, q, []conf.Upstream{{Addr: pc.LocalAddr().String()}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if txt := r.Answer[0].(*dns.TXT).Txt[0]; txt != "127.0.0.0" {
		t.Errorf("took the reply for %s", txt)
	}
}
