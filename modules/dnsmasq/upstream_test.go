package dnsmasq

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/dnstest"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// TestServerInterface binds a query to lo (SO_BINDTODEVICE, root only).
func TestServerInterface(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SO_BINDTODEVICE needs root")
	}
	s := dnstest.NewDropServer(t, 0)
	f := &forwarder{Client: exchange.Client{Timeout: time.Second, PortLimit: 1}}
	if _, _, err := f.exchange(context.Background(), dnstest.AQuery("a.test."), []conf.Upstream{{Addr: s.Addr(), Iface: "lo"}}, false); err != nil {
		t.Fatal(err)
	}
	if err := checkSource(conf.Upstream{Iface: "nosuchif0"}); err == nil {
		t.Error("a missing interface was accepted")
	}
	if err := checkSource(conf.Upstream{Source: mustAddrPort("192.0.2.55:0")}); err == nil {
		t.Error("a source address this machine does not have was accepted")
	}
}

// TestLoopDetector: a probe that comes back takes its server out.
func TestLoopDetector(t *testing.T) {
	s := dnstest.NewDropServer(t, 0)
	ups := []conf.Upstream{{Addr: s.Addr()}, {Addr: "127.0.0.1:9"}}
	l := newLoopDetector(ups)
	l.probe(&exchange.Client{Timeout: 200 * time.Millisecond, PortLimit: 1}, zap.NewNop())
	time.Sleep(100 * time.Millisecond)
	froms, _ := s.Seen()
	if len(froms) != 1 {
		t.Fatalf("probe queries %v, want 1", froms)
	}
	var probe string
	l.mu.Lock()
	for n, a := range l.names {
		if a == ups[0].Addr {
			probe = n
		}
	}
	l.mu.Unlock()
	if !loopNameRE.MatchString(probe) {
		t.Fatalf("probe name %q", probe)
	}
	if l.looped("other.test", dns.TypeTXT, zap.NewNop()) || l.looped(probe, dns.TypeA, zap.NewNop()) {
		t.Error("not a probe, taken as one")
	}
	if !l.looped(probe, dns.TypeTXT, zap.NewNop()) {
		t.Fatal("probe not recognised")
	}
	if cur := l.current(); len(cur) != 1 || cur[0] != ups[1] {
		t.Errorf("servers after the loop: %v", cur)
	}
}

// TestLookupMAC reads the ARP table; loopback and IPv6 clients have no MAC.
func TestLookupMAC(t *testing.T) {
	f := filepath.Join(t.TempDir(), "arp")
	table := "IP address       HW type     Flags       HW address            Mask     Device\n" +
		"192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n" +
		"192.0.2.2        0x1         0x0         00:00:00:00:00:00     *        eth0\n"
	if err := os.WriteFile(f, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	old := arpTable
	arpTable = f
	defer func() { arpTable = old }()
	if m := lookupMAC(mustAddr("192.0.2.1")); m.String() != "02:fc:00:00:00:05" {
		t.Errorf("got %v", m)
	}
	for _, a := range []string{"192.0.2.2", "192.0.2.3", "127.0.0.1", "fd00::1"} {
		if m := lookupMAC(mustAddr(a)); m != nil {
			t.Errorf("%s: got %v, want none", a, m)
		}
	}
	e := &conf.EDNSConfig{AddMAC: "text"}
	out, cacheable := forwardOptions(e, nil, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5})
	if len(out) != 1 || out[0].Option() != optDeviceID || string(out[0].(*dns.EDNS0_LOCAL).Data) != "02:fc:00:00:00:05" || cacheable {
		t.Errorf("add-mac=text: %v, cacheable %v", out, cacheable)
	}
	e.AddMAC = "base64"
	if out, _ := forwardOptions(e, nil, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1)}); string(out[0].(*dns.EDNS0_LOCAL).Data) != "AvwAAAAF" {
		t.Errorf("add-mac=base64: %s", out[0].(*dns.EDNS0_LOCAL).Data)
	}
	e.AddMAC = "binary"
	if out, _ := forwardOptions(e, []dns.EDNS0{&dns.EDNS0_LOCAL{Code: optMAC, Data: []byte{1}}}, &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1)}); len(out) != 1 || out[0].Option() != optMAC || len(out[0].(*dns.EDNS0_LOCAL).Data) != 6 {
		t.Errorf("add-mac: %v", out)
	}
}

var loopNameRE = regexp.MustCompile(`^[0-9a-f]{8}\.test$`)

func mustAddr(s string) netip.Addr         { return netip.MustParseAddr(s) }
func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
