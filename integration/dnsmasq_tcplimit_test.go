package integration

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDnsmasqDiffMaxTCPConnections: with max-tcp-connections=1, while one
// client keeps its TCP connection open a second TCP query is not answered
// (it waits in the backlog) — on both servers; once the first connection
// closes, the waiting query is answered. UDP is not limited.
func TestDnsmasqDiffMaxTCPConnections(t *testing.T) {
	conf := "no-resolv\nno-hosts\nmax-tcp-connections=1\naddress=/a.test/1.2.3.4\n"
	p := startDNSPair(t, conf, conf)
	for _, side := range []struct{ name, addr string }{{"dnsmasq", p.dnsmasq}, {"frontdesk", p.frontdesk}} {
		q := new(dns.Msg)
		q.SetQuestion("a.test.", dns.TypeA)
		first, err := dns.DialTimeout("tcp", side.addr, 2*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", side.name, err)
		}
		_ = first.SetDeadline(time.Now().Add(5 * time.Second))
		if err := first.WriteMsg(q); err != nil {
			t.Fatalf("%s: %v", side.name, err)
		}
		if r, err := first.ReadMsg(); err != nil || len(r.Answer) != 1 {
			t.Fatalf("%s: first connection: %v %v", side.name, r, err)
		}
		// The first connection stays open: a second one is not served.
		second, err := dns.DialTimeout("tcp", side.addr, 2*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", side.name, err)
		}
		_ = second.SetDeadline(time.Now().Add(700 * time.Millisecond))
		if err := second.WriteMsg(q); err != nil {
			t.Fatalf("%s: %v", side.name, err)
		}
		if r, err := second.ReadMsg(); err == nil {
			t.Errorf("%s: second connection answered while the first is open: %v", side.name, r)
		}
		// UDP is not limited.
		if r, err := exchange(side.addr, dnsQuery{name: "a.test.", qtype: dns.TypeA}); err != nil || len(r.Answer) != 1 {
			t.Errorf("%s: UDP: %v %v", side.name, r, err)
		}
		// Once the first closes, the waiting query is answered.
		first.Close()
		_ = second.SetDeadline(time.Now().Add(5 * time.Second))
		if r, err := second.ReadMsg(); err != nil || len(r.Answer) != 1 {
			t.Errorf("%s: second connection after the first closed: %v %v", side.name, r, err)
		}
		second.Close()
	}
}
