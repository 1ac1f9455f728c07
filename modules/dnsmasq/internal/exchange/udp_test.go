package exchange

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/dnstest"
)

// TestFastRetry: the same query (same ID, same port) is sent again after
// the delay, then after twice the delay; with port-limit the retries come
// from new ports, then the ports take turns.
func TestFastRetry(t *testing.T) {
	s := dnstest.NewDropServer(t, 2)
	f := &Client{Timeout: 2 * time.Second, PortLimit: 1, FastRetry: 50 * time.Millisecond, FastRetryFor: 10 * time.Second}
	start := time.Now()
	r, err := f.Exchange(context.Background(), dnstest.AQuery("a.test."), conf.Upstream{Addr: s.Addr()}, false)
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("got %v, %v", r, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > time.Second {
		t.Errorf("answered after %v, want about 150ms (50ms + 100ms)", d)
	}
	froms, ids := s.Seen()
	if len(froms) != 3 || froms[0] != froms[1] || froms[1] != froms[2] || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("sends from %v with IDs %v, want 3 from one port with one ID", froms, ids)
	}

	s = dnstest.NewDropServer(t, 4)
	f.PortLimit = 2
	if _, err := f.Exchange(context.Background(), dnstest.AQuery("b.test."), conf.Upstream{Addr: s.Addr()}, false); err != nil {
		t.Fatal(err)
	}
	froms, _ = s.Seen()
	if len(froms) != 5 || froms[0] == froms[1] || froms[2] != froms[0] || froms[3] != froms[1] || froms[4] != froms[0] {
		t.Errorf("port-limit=2: sends from %v, want two ports taking turns", froms)
	}

	// No retries without fast-dns-retry: the server times out.
	s = dnstest.NewDropServer(t, 1)
	f = &Client{Timeout: 300 * time.Millisecond, PortLimit: 1}
	if r, err := f.Exchange(context.Background(), dnstest.AQuery("c.test."), conf.Upstream{Addr: s.Addr()}, false); err == nil {
		t.Fatalf("got %v, want a timeout", r)
	}
	if froms, _ := s.Seen(); len(froms) != 1 {
		t.Errorf("sends from %v, want one", froms)
	}
}

// TestFastRetryWholeSeconds: retries stop once the whole seconds since the
// first send reach the retry time (dnsmasq counts in seconds).
func TestFastRetryWholeSeconds(t *testing.T) {
	s := dnstest.NewDropServer(t, 100)
	f := &Client{Timeout: 2500 * time.Millisecond, PortLimit: 1, FastRetry: 400 * time.Millisecond, FastRetryFor: 1000 * time.Millisecond}
	// Start just after a second begins: sends at 0 and 0.4 s (still
	// second 0), none at 1.2 s (second 1 reaches the retry time).
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	_, _ = f.Exchange(context.Background(), dnstest.AQuery("d.test."), conf.Upstream{Addr: s.Addr()}, false)
	if froms, _ := s.Seen(); len(froms) != 2 {
		t.Errorf("%d sends, want 2", len(froms))
	}
}

// TestQueryPort: with query-port every query leaves from the one shared
// socket, concurrent ones included, and each gets its own reply.
func TestQueryPort(t *testing.T) {
	s := dnstest.NewDropServer(t, 0)
	sp, err := AcquireQueryPort(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ReleaseQueryPort(0)
	f := &Client{Timeout: 2 * time.Second, PortLimit: 1, QueryPort: sp}
	var wg sync.WaitGroup
	for _, n := range []string{"a.test.", "b.test.", "c.test.", "d.test."} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.Exchange(context.Background(), dnstest.AQuery(n), conf.Upstream{Addr: s.Addr()}, false)
			if err != nil || r.Question[0].Name != n {
				t.Errorf("%s: got %v, %v", n, r, err)
			}
		}()
	}
	wg.Wait()
	froms, _ := s.Seen()
	for _, fr := range froms {
		if fr != froms[0] {
			t.Fatalf("queries from %v, want one port", froms)
		}
	}
	// A server with its own @source does not use the shared port.
	u := conf.Upstream{Addr: s.Addr(), Source: netip.MustParseAddrPort("127.0.0.2:0")}
	if _, err := f.Exchange(context.Background(), dnstest.AQuery("e.test."), u, false); err != nil {
		t.Fatal(err)
	}
	if froms, _ := s.Seen(); froms[len(froms)-1][:10] != "127.0.0.2:" {
		t.Errorf("@source query from %s", froms[len(froms)-1])
	}
}

// TestSourcePortShared: concurrent queries to a server=...@addr#port all
// leave from that address and port, through one shared socket.
func TestSourcePortShared(t *testing.T) {
	s := dnstest.NewDropServer(t, 0)
	pc, err := net.ListenPacket("udp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	u := conf.Upstream{Addr: s.Addr(), Source: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), uint16(port))}
	sp, err := AcquireSourcePort(u)
	if err != nil {
		t.Fatal(err)
	}
	defer ReleaseSourcePort(u)
	f := &Client{Timeout: 2 * time.Second, PortLimit: 1, SourcePorts: map[conf.Upstream]*SharedPort{u: sp}}
	var wg sync.WaitGroup
	for _, n := range []string{"a.test.", "b.test.", "c.test."} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Exchange(context.Background(), dnstest.AQuery(n), u, false); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}()
	}
	wg.Wait()
	for _, fr := range func() []string { f, _ := s.Seen(); return f }() {
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
	f := &Client{Timeout: 3 * time.Second, PortLimit: 1}
	start := time.Now()
	if _, err := f.Exchange(context.Background(), dnstest.AQuery("a.test."), conf.Upstream{Addr: addr}, false); err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failed after %v", d)
	}
}
