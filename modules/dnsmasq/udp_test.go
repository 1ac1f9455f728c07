package dnsmasq

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestUDPServerMatchesMiekg sends the same packets, well-formed and not, to
// the app's UDP server and to miekg/dns's, with the same handler, and wants
// byte-identical replies (or none from both).
func TestUDPServerMatchesMiekg(t *testing.T) {
	r := fuzzResolver(t)
	h := &handler{}
	h.current.Store(r)

	pc1, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := newUDPServer(pc1, h)
	if err != nil {
		t.Fatal(err)
	}
	defer ours.shutdown(context.Background())

	pc2, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	theirs := &dns.Server{PacketConn: pc2, Handler: h, UDPSize: 65535, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = theirs.ActivateAndServe() }()
	<-started
	defer theirs.Shutdown()

	pack := func(f func(m *dns.Msg)) []byte {
		m := new(dns.Msg)
		m.SetQuestion("a.test.", dns.TypeA)
		m.Id = 0x1234
		f(m)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	packets := map[string][]byte{
		"plain":        pack(func(m *dns.Msg) {}),
		"mixed case":   pack(func(m *dns.Msg) { m.Question[0].Name = "X.A.Test." }),
		"edns":         pack(func(m *dns.Msg) { m.SetEdns0(1232, true) }),
		"edns small":   pack(func(m *dns.Msg) { m.SetEdns0(100, false) }),
		"cname chain":  pack(func(m *dns.Msg) { m.Question[0].Name = "c2.test." }),
		"nxdomain":     pack(func(m *dns.Msg) { m.Question[0].Name = "n.test."; m.Question[0].Qtype = dns.TypeTXT }),
		"refused":      pack(func(m *dns.Msg) { m.Question[0].Name = "x.a.test."; m.Question[0].Qtype = dns.TypeMX }),
		"any":          pack(func(m *dns.Msg) { m.Question[0].Name = "h.test."; m.Question[0].Qtype = dns.TypeANY }),
		"chaos class":  pack(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }),
		"update":       pack(func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }),
		"notify":       pack(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }),
		"status":       pack(func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }),
		"two answers":  pack(func(m *dns.Msg) { m.Answer = []dns.RR{mustRR("a. 1 IN A 1.1.1.1"), mustRR("a. 1 IN A 1.1.1.2")} }),
		"no question":  pack(func(m *dns.Msg) { m.Question = nil }),
		"two question": pack(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }),
		"cd and z":     pack(func(m *dns.Msg) { m.CheckingDisabled = true; m.Zero = true; m.RecursionDesired = false }),
		"truncated":    pack(func(m *dns.Msg) {})[:15],
		"garbage":      {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01},
		"short":        {0x12, 0x34, 0x01},
	}
	resp := pack(func(m *dns.Msg) {})
	resp[2] |= 0x80
	packets["response"] = resp

	ask := func(addr net.Addr, b []byte) []byte {
		c, err := net.Dial("udp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 65535)
		n, err := c.Read(buf)
		if err != nil {
			return nil
		}
		return buf[:n]
	}
	for name, b := range packets {
		got, want := ask(pc1.LocalAddr(), b), ask(pc2.LocalAddr(), b)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got %x, miekg/dns answers %x", name, got, want)
		}
		if name != "short" && name != "response" && got == nil {
			t.Errorf("%s: no reply", name)
		}
	}
}
