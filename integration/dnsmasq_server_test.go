package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDnsmasqLabInline is the lab's configuration written inline: the name
// and its subdomains resolve to 127.0.0.1, over UDP and TCP, and nothing
// else is answered without an upstream (REFUSED).
func TestDnsmasqLabInline(t *testing.T) {
	addr := startDNSLines(t, "no-resolv", "no-hosts", "address=/myapp.local/127.0.0.1", "listen-address=127.0.0.1").addr
	for _, tcp := range []bool{false, true} {
		r, err := exchange(addr, dnsQuery{name: "MyApp.local.", qtype: dns.TypeA, tcp: tcp})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Answer) != 1 || r.Answer[0].String() != "MyApp.local.\t0\tIN\tA\t127.0.0.1" || !r.Authoritative {
			t.Errorf("tcp=%v: got %v", tcp, r)
		}
	}
	if r := query(t, addr, "api.myapp.local.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("subdomain: %v", r)
	}
	if r := query(t, addr, "example.com.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("no upstream: want REFUSED, got %v", r)
	}
}

// TestDnsmasqStrictOrderFailover: with strict-order and the first server
// down, Frontdesk answers from the second one within the same query (dnsmasq
// itself waits for the client to retry).
func TestDnsmasqStrictOrderFailover(t *testing.T) {
	up2 := startFakeUpstream(t, 2)
	dead := startFakeUpstream(t, 9)
	dead.Stop()
	addr := startDNSLines(t, "no-resolv", "no-hosts", "strict-order", "server="+dead.Dnsmasq(), "server="+up2.Dnsmasq()).addr
	for i := 0; i < 3; i++ {
		r := query(t, addr, fmt.Sprintf("n%d.test.", i), dns.TypeA)
		if len(r.Answer) != 1 || !strings.HasSuffix(r.Answer[0].String(), "10.0.0.2") {
			t.Fatalf("want the answer of upstream 2, got %v", r)
		}
	}
}

// TestDnsmasqUpstreamsDown: when every upstream is down (one refuses, one
// never answers), clients get SERVFAIL within the timeouts, and Frontdesk's
// goroutines return to their baseline while the upstreams stay down.
func TestDnsmasqUpstreamsDown(t *testing.T) {
	dead := startFakeUpstream(t, 9)
	dead.Stop()
	black, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer black.Close()
	blackAddr := dnsmasqAddr(black.LocalAddr().String())
	srv := startDNSLines(t, "no-resolv", "no-hosts", "server="+dead.Dnsmasq(), "server="+blackAddr)
	addr := srv.addr
	base := srv.admin.goroutines(t)
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			m := new(dns.Msg)
			m.SetQuestion(fmt.Sprintf("down%d.test.", i), dns.TypeA)
			c := &dns.Client{Timeout: 8 * time.Second}
			r, _, err := c.Exchange(m, addr)
			if err != nil || r.Rcode != dns.RcodeServerFailure || time.Since(start) > 6*time.Second {
				bad.Add(1)
				t.Logf("query %d: %v %v after %v", i, r, err, time.Since(start))
			}
		}()
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d of 50 queries did not get SERVFAIL in time", bad.Load())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := srv.admin.goroutines(t)
		if n <= base+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines grew from %d to %d while upstreams are down", base, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDnsmasqGarbage sends garbage over UDP, truncated and oversized TCP
// frames and a TCP client that stalls, then checks that a valid query is
// still answered over both transports.
func TestDnsmasqGarbage(t *testing.T) {
	addr := startDNSLines(t, "no-resolv", "no-hosts", "address=/ok.test/10.1.2.3").addr
	garbage := [][]byte{
		{}, {0}, bytes.Repeat([]byte{0xff}, 12), bytes.Repeat([]byte{0xff}, 600),
		{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x0c},                   // compression loop
		{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 63},                           // label overruns
		{0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01}, // a response
		{0x12, 0x34, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01}, // qdcount 2
	}
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for _, g := range garbage {
		_, _ = u.Write(g)
	}
	// TCP: a frame announcing more than is sent, then close; a frame of
	// garbage; a client that sends half a length prefix and stalls.
	for _, frame := range [][]byte{{0x00, 0x40, 0x12, 0x34}, append([]byte{0x00, 0x0e}, garbage[4]...), {0xff, 0xff}} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(frame)
		c.Close()
	}
	stall, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stall.Close()
	_, _ = stall.Write([]byte{0x00})
	for _, tcp := range []bool{false, true} {
		r, err := exchange(addr, dnsQuery{name: "ok.test.", qtype: dns.TypeA, tcp: tcp})
		if err != nil {
			t.Fatalf("tcp=%v: %v", tcp, err)
		}
		if len(r.Answer) != 1 {
			t.Fatalf("tcp=%v: %v", tcp, r)
		}
	}
	// Two pipelined queries on one TCP connection are both answered.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var buf bytes.Buffer
	for i := 0; i < 2; i++ {
		m := new(dns.Msg)
		m.SetQuestion("ok.test.", dns.TypeA)
		m.Id = uint16(100 + i)
		b, _ := m.Pack()
		_ = binary.Write(&buf, binary.BigEndian, uint16(len(b)))
		buf.Write(b)
	}
	_, _ = c.Write(buf.Bytes())
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	for i := 0; i < 2; i++ {
		var n uint16
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil || len(r.Answer) != 1 {
			t.Fatalf("pipelined answer %d: %v %v", i, r, err)
		}
	}
}

// TestDnsmasqForwardMax: with dns-forward-max=2 and an upstream that never
// answers, two queries are forwarded (and get SERVFAIL after the timeout)
// and the others are dropped, as dnsmasq drops them; then the slots are
// free again.
func TestDnsmasqForwardMax(t *testing.T) {
	black, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer black.Close()
	blackAddr := dnsmasqAddr(black.LocalAddr().String())
	addr := startDNSLines(t, "no-resolv", "no-hosts", "dns-forward-max=2", "server="+blackAddr, "address=/local.test/10.0.0.1").addr
	var wg sync.WaitGroup
	var servfail, dropped atomic.Int32
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := new(dns.Msg)
			m.SetQuestion(fmt.Sprintf("q%d.test.", i), dns.TypeA)
			c := &dns.Client{Timeout: 4 * time.Second}
			r, _, err := c.Exchange(m, addr)
			switch {
			case err != nil:
				dropped.Add(1)
			case r.Rcode == dns.RcodeServerFailure:
				servfail.Add(1)
			}
		}()
		time.Sleep(20 * time.Millisecond)
	}
	// Local answers never wait for a slot.
	if r := query(t, addr, "local.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("local answer while forwarding is saturated: %v", r)
	}
	wg.Wait()
	if servfail.Load() != 2 || dropped.Load() != 4 {
		t.Fatalf("want 2 SERVFAIL and 4 dropped, got %d and %d", servfail.Load(), dropped.Load())
	}
	m := new(dns.Msg)
	m.SetQuestion("again.test.", dns.TypeA)
	c := &dns.Client{Timeout: 4 * time.Second}
	if r, _, err := c.Exchange(m, addr); err != nil || r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("after the burst: %v %v", r, err)
	}
}

// TestDnsmasqSourcePorts: forwarded queries use random source ports and
// IDs; min-port and max-port bound the ports.
func TestDnsmasqSourcePorts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lines  []string
		lo, hi int
	}{{"default", nil, 1024, 65535}, {"range", []string{"min-port=40000", "max-port=40031"}, 40000, 40031}} {
		t.Run(tc.name, func(t *testing.T) {
			up := startFakeUpstream(t, 1)
			addr := startDNSLines(t, append([]string{"no-resolv", "no-hosts", "server=" + up.Dnsmasq()}, tc.lines...)...).addr
			for i := 0; i < 20; i++ {
				query(t, addr, fmt.Sprintf("p%d.test.", i), dns.TypeA)
			}
			up.mu.Lock()
			ports, ids := append([]int(nil), up.ports...), append([]uint16(nil), up.ids...)
			up.mu.Unlock()
			distinctPorts, distinctIDs := map[int]bool{}, map[uint16]bool{}
			for _, p := range ports {
				if p < tc.lo || p > tc.hi {
					t.Errorf("source port %d outside [%d, %d]", p, tc.lo, tc.hi)
				}
				distinctPorts[p] = true
			}
			for _, id := range ids {
				distinctIDs[id] = true
			}
			if len(ports) != 20 || len(distinctPorts) < 5 || len(distinctIDs) < 15 {
				t.Errorf("%d queries from %d ports with %d IDs: not random", len(ports), len(distinctPorts), len(distinctIDs))
			}
		})
	}
}
