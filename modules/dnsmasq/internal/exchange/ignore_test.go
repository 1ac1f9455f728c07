package exchange

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// TestIgnoreAddressKeepsListening: a forged reply with an ignored address
// that arrives first is skipped, and the genuine one that follows on the
// same socket is taken.
func TestIgnoreAddressKeepsListening(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			for _, ip := range []string{"10.6.6.6", "10.0.0.7"} {
				m := new(dns.Msg)
				m.SetReply(q)
				m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)}}
				b, _ := m.Pack()
				_, _ = pc.WriteTo(b, from)
			}
		}
	}()
	f := &Client{Timeout: time.Second, Ignore: []netip.Prefix{netip.MustParsePrefix("10.6.0.0/16")}}
	q := new(dns.Msg)
	q.SetQuestion("a.test.", dns.TypeA)
	r, err := f.Exchange(context.Background(), q, conf.Upstream{Addr: pc.LocalAddr().String()}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.0.0.7" {
		t.Fatalf("got %v, want the genuine 10.0.0.7", r.Answer)
	}
	// Only the forged reply: the server fails after the timeout.
	f.Ignore = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Timeout = 200 * time.Millisecond
	if r, err := f.Exchange(context.Background(), q, conf.Upstream{Addr: pc.LocalAddr().String()}, false); err == nil {
		t.Fatalf("got %v, want a timeout", r)
	}
	// Other types are never ignored.
	q.SetQuestion("a.test.", dns.TypeMX)
	if _, err := f.Exchange(context.Background(), q, conf.Upstream{Addr: pc.LocalAddr().String()}, false); err != nil {
		t.Fatal(err)
	}
}
