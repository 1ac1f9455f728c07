package dnstest

import (
	"net"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DropServer is a UDP server on loopback that ignores the first drop
// queries, then answers A 10.0.0.1; it records the source of each query.
type DropServer struct {
	pc    net.PacketConn
	mu    sync.Mutex
	froms []string
	ids   []uint16
}

// NewDropServer starts a DropServer that ignores the first drop queries;
// it stops with the test.
func NewDropServer(t testing.TB, drop int) *DropServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	s := &DropServer{pc: pc}
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

// Addr is the server's address, ip:port.
func (s *DropServer) Addr() string { return s.pc.LocalAddr().String() }

// Seen returns the source address and the ID of each query so far.
func (s *DropServer) Seen() ([]string, []uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.froms...), append([]uint16(nil), s.ids...)
}

// AQuery is a query for the A records of name.
func AQuery(name string) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	return q
}
