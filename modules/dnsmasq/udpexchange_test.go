package dnsmasq

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"
)

// dropServer is a UDP server on loopback that ignores the first drop
// queries, then answers A 10.0.0.1; it records the source of each query.
type dropServer struct {
	pc    net.PacketConn
	mu    sync.Mutex
	froms []string
	ids   []uint16
}

func startDropServer(t *testing.T, drop int) *dropServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	s := &dropServer{pc: pc}
	go func() {
		buf := make([]byte, 1500)
		for n := 1; ; n++ {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:k]) != nil {
				continue
			}
			s.mu.Lock()
			s.froms, s.ids = append(s.froms, from.String()), append(s.ids, q.Id)
			s.mu.Unlock()
			if n <= drop {
				continue
			}
			m := new(dns.Msg)
			m.SetReply(q)
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(10, 0, 0, 1)}}
			b, _ := m.Pack()
			_, _ = pc.WriteTo(b, from)
		}
	}()
	return s
}

func (s *dropServer) seen() ([]string, []uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.froms...), append([]uint16(nil), s.ids...)
}

func aQuery(name string) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	return q
}

// TestFastRetry: the same query (same ID, same port) is sent again after
// the delay, then after twice the delay; with port-limit the retries come
// from new ports, then the ports take turns.
func TestFastRetry(t *testing.T) {
	s := startDropServer(t, 2)
	f := &forwarder{timeout: 2 * time.Second, portLimit: 1, fastRetry: 50 * time.Millisecond, fastRetryFor: 10 * time.Second}
	start := time.Now()
	r, _, err := f.exchange(context.Background(), aQuery("a.test."), []Upstream{{Addr: s.pc.LocalAddr().String()}}, false)
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("got %v, %v", r, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > time.Second {
		t.Errorf("answered after %v, want about 150ms (50ms + 100ms)", d)
	}
	froms, ids := s.seen()
	if len(froms) != 3 || froms[0] != froms[1] || froms[1] != froms[2] || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("sends from %v with IDs %v, want 3 from one port with one ID", froms, ids)
	}

	s = startDropServer(t, 4)
	f.portLimit = 2
	if _, _, err := f.exchange(context.Background(), aQuery("b.test."), []Upstream{{Addr: s.pc.LocalAddr().String()}}, false); err != nil {
		t.Fatal(err)
	}
	froms, _ = s.seen()
	if len(froms) != 5 || froms[0] == froms[1] || froms[2] != froms[0] || froms[3] != froms[1] || froms[4] != froms[0] {
		t.Errorf("port-limit=2: sends from %v, want two ports taking turns", froms)
	}

	// No retries without fast-dns-retry: the server times out.
	s = startDropServer(t, 1)
	f = &forwarder{timeout: 300 * time.Millisecond, portLimit: 1}
	if r, _, err := f.exchange(context.Background(), aQuery("c.test."), []Upstream{{Addr: s.pc.LocalAddr().String()}}, false); err == nil {
		t.Fatalf("got %v, want a timeout", r)
	}
	if froms, _ := s.seen(); len(froms) != 1 {
		t.Errorf("sends from %v, want one", froms)
	}
}

// TestFastRetryWholeSeconds: retries stop once the whole seconds since the
// first send reach the retry time (dnsmasq counts in seconds).
func TestFastRetryWholeSeconds(t *testing.T) {
	s := startDropServer(t, 100)
	f := &forwarder{timeout: 2500 * time.Millisecond, portLimit: 1, fastRetry: 400 * time.Millisecond, fastRetryFor: 1000 * time.Millisecond}
	// Start just after a second begins: sends at 0 and 0.4 s (still
	// second 0), none at 1.2 s (second 1 reaches the retry time).
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	_, _, _ = f.exchange(context.Background(), aQuery("d.test."), []Upstream{{Addr: s.pc.LocalAddr().String()}}, false)
	if froms, _ := s.seen(); len(froms) != 2 {
		t.Errorf("%d sends, want 2", len(froms))
	}
}

// TestQueryPort: with query-port every query leaves from the one shared
// socket, concurrent ones included, and each gets its own reply.
func TestQueryPort(t *testing.T) {
	s := startDropServer(t, 0)
	sp, err := acquireSharedPort(0)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseSharedPort(0)
	f := &forwarder{timeout: 2 * time.Second, portLimit: 1, shared: sp}
	var wg sync.WaitGroup
	for _, n := range []string{"a.test.", "b.test.", "c.test.", "d.test."} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _, err := f.exchange(context.Background(), aQuery(n), []Upstream{{Addr: s.pc.LocalAddr().String()}}, false)
			if err != nil || r.Question[0].Name != n {
				t.Errorf("%s: got %v, %v", n, r, err)
			}
		}()
	}
	wg.Wait()
	froms, _ := s.seen()
	for _, fr := range froms {
		if fr != froms[0] {
			t.Fatalf("queries from %v, want one port", froms)
		}
	}
	// A server with its own @source does not use the shared port.
	u := Upstream{Addr: s.pc.LocalAddr().String(), Source: mustAddrPort("127.0.0.2:0")}
	if _, _, err := f.exchange(context.Background(), aQuery("e.test."), []Upstream{u}, false); err != nil {
		t.Fatal(err)
	}
	if froms, _ := s.seen(); froms[len(froms)-1][:10] != "127.0.0.2:" {
		t.Errorf("@source query from %s", froms[len(froms)-1])
	}
}

// TestServerInterface binds a query to lo (SO_BINDTODEVICE, root only).
func TestServerInterface(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SO_BINDTODEVICE needs root")
	}
	s := startDropServer(t, 0)
	f := &forwarder{timeout: time.Second, portLimit: 1}
	if _, _, err := f.exchange(context.Background(), aQuery("a.test."), []Upstream{{Addr: s.pc.LocalAddr().String(), Iface: "lo"}}, false); err != nil {
		t.Fatal(err)
	}
	if err := checkSource(Upstream{Iface: "nosuchif0"}); err == nil {
		t.Error("a missing interface was accepted")
	}
	if err := checkSource(Upstream{Source: mustAddrPort("192.0.2.55:0")}); err == nil {
		t.Error("a source address this machine does not have was accepted")
	}
}

// TestLoopDetector: a probe that comes back takes its server out.
func TestLoopDetector(t *testing.T) {
	s := startDropServer(t, 0)
	ups := []Upstream{{Addr: s.pc.LocalAddr().String()}, {Addr: "127.0.0.1:9"}}
	l := newLoopDetector(ups)
	l.probe(&forwarder{timeout: 200 * time.Millisecond, portLimit: 1}, zap.NewNop())
	time.Sleep(100 * time.Millisecond)
	froms, _ := s.seen()
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
	e := &ednsConfig{AddMAC: "text"}
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

// TestSourcePortShared: concurrent queries to a server=...@addr#port all
// leave from that address and port, through one shared socket.
func TestSourcePortShared(t *testing.T) {
	s := startDropServer(t, 0)
	pc, err := net.ListenPacket("udp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	u := Upstream{Addr: s.pc.LocalAddr().String(), Source: netip.AddrPortFrom(mustAddr("127.0.0.3"), uint16(port))}
	sp, err := acquireSourcePort(u, port)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseSourcePort(u, port)
	f := &forwarder{timeout: 2 * time.Second, portLimit: 1, sourcePorts: map[Upstream]*sharedPort{u: sp}}
	var wg sync.WaitGroup
	for _, n := range []string{"a.test.", "b.test.", "c.test."} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := f.exchange(context.Background(), aQuery(n), []Upstream{u}, false); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}()
	}
	wg.Wait()
	for _, fr := range func() []string { f, _ := s.seen(); return f }() {
		if fr != u.Source.String() {
			t.Errorf("query from %s, want %s", fr, u.Source)
		}
	}
}

// TestRefusedPortFailsAtOnce: a server whose port is closed fails at once
// (ICMP port unreachable), not after the timeout.
func TestRefusedPortFailsAtOnce(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	f := &forwarder{timeout: 3 * time.Second, portLimit: 1}
	start := time.Now()
	if _, _, err := f.exchange(context.Background(), aQuery("a.test."), []Upstream{{Addr: addr}}, false); err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failed after %v", d)
	}
}
