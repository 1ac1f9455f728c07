package dnsmasq

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

func TestLocaliseQueries(t *testing.T) {
	c, err := parse(t, "no-resolv", "no-hosts", "localise-queries", "host-record=m.test,127.0.0.5", "host-record=m.test,10.0.0.1",
		"host-record=m.test,::1", "host-record=o.test,10.0.0.2", "host-record=o.test,10.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	r := &resolver{cfg: c, store: newStore(c, nil), cache: newCache(10), fwd: &forwarder{Client: exchange.Client{}}, stats: &stats{}, localNets: localNetsOf(loIfaces())}
	for _, tc := range []struct {
		name  string
		qtype uint16
		local string
		want  string
	}{
		{"m.test.", dns.TypeA, "127.0.0.1", "127.0.0.5"},
		{"m.test.", dns.TypeANY, "127.0.0.1", "127.0.0.5 ::1"},
		{"m.test.", dns.TypeA, "127.0.0.2", "127.0.0.5 10.0.0.1"}, // not an interface address
		{"m.test.", dns.TypeA, "192.0.2.2", "127.0.0.5 10.0.0.1"}, // none on 192.0.2.0/24
		{"m.test.", dns.TypeA, "", "127.0.0.5 10.0.0.1"},
		{"o.test.", dns.TypeA, "127.0.0.1", "10.0.0.2 10.0.0.3"},
	} {
		var local netip.Addr
		if tc.local != "" {
			local = netip.MustParseAddr(tc.local)
		}
		m := new(dns.Msg)
		m.SetQuestion(tc.name, tc.qtype)
		a, _ := r.resolveLocal(m, false, local)
		var got []string
		for _, rr := range a.answer {
			ip, _ := exchange.RRAddr(rr)
			got = append(got, ip.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s %s at %q: got %q, want %q", tc.name, dns.TypeToString[tc.qtype], tc.local, got, tc.want)
		}
	}
}

// TestLocaliseWildcardSocket: on a wildcard socket (listen-address=0.0.0.0)
// the address each query came to is read from its packet info: a query to
// 127.0.0.1 is localised, one to 127.0.0.2 is not, and each reply comes
// from the address its query went to (the client's connected socket would
// drop it otherwise).
func TestLocaliseWildcardSocket(t *testing.T) {
	c, err := parse(t, "no-resolv", "no-hosts", "localise-queries", "host-record=m.test,127.0.0.5", "host-record=m.test,10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	r := &resolver{cfg: c, store: newStore(c, nil), cache: newCache(10), fwd: &forwarder{Client: exchange.Client{}}, stats: &stats{}, localNets: localNetsOf(loIfaces())}
	h := &handler{}
	h.current.Store(r)
	pc, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newUDPServer(pc, h)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.shutdown(context.Background())
	port := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	for addr, want := range map[string]int{"127.0.0.1": 1, "127.0.0.2": 2} {
		m := new(dns.Msg)
		m.SetQuestion("m.test.", dns.TypeA)
		reply, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr+":"+port)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if len(reply.Answer) != want {
			t.Errorf("query to %s: %d answers, want %d: %v", addr, len(reply.Answer), want, reply.Answer)
		}
	}
}
