package dnsmasq

import (
	"net"
	"net/netip"
	"reflect"
	"testing"

	"github.com/miekg/dns"

	fdstats "github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// TestDashboardSection: while a dashboard is loaded, each answer goes to
// the query log and the top lists, and null answers count as blocked;
// without one, only the blocked count moves.
func TestDashboardSection(t *testing.T) {
	r := benchResolver(t, "address=/ads.example/0.0.0.0", "address=/nx.example/")
	client := &net.UDPAddr{IP: net.ParseIP("127.0.0.9"), Port: 5353}
	ask := func(name string) {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		if r.Answer(m, client, true, netip.Addr{}) == nil {
			t.Fatalf("%s: no answer", name)
		}
	}
	blocked0, logged0 := dash.blocked.Load(), func() uint64 { _, n := dash.log.Last(0); return n }()

	ask("ads.example.") // before any dashboard
	if got := dash.blocked.Load() - blocked0; got != 1 {
		t.Errorf("blocked %d without a dashboard, want 1", got)
	}
	if _, n := dash.log.Last(0); n != logged0 {
		t.Error("a query was logged without a dashboard")
	}

	stop := fdstats.Watch()
	defer stop()
	dash.names.Reset()
	dash.clients.Reset()
	sample := dash.sample
	dash.sample = fdstats.NewSampled(1) // every query, for exact counts (stats tests the sampling)
	defer func() { dash.sample = sample }()
	for _, name := range []string{"bench.local.", "bench.local.", "ads.example.", "NX.example."} {
		ask(name)
	}
	sec := dashboardSection().(DashboardStats)
	if got := sec.Blocked - blocked0; got != 2 {
		t.Errorf("blocked %d, want 2", got)
	}
	if sec.LogTotal-logged0 != 4 || len(sec.Log) < 4 {
		t.Fatalf("log total %d (was %d), %d entries; want 4 more", sec.LogTotal, logged0, len(sec.Log))
	}
	var got []string
	for _, e := range sec.Log[:4] {
		got = append(got, e.Name+" "+e.Source+" "+e.Rcode+" "+e.Client+" "+e.Type)
	}
	want := []string{"nx.example local NXDOMAIN 127.0.0.9 A", "ads.example blocked NOERROR 127.0.0.9 A",
		"bench.local local NOERROR 127.0.0.9 A", "bench.local local NOERROR 127.0.0.9 A"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("log:\n%q\nwant\n%q", got, want)
	}
	if len(sec.TopNames) == 0 || sec.TopNames[0] != (fdstats.Top{Key: "bench.local", Count: 2}) {
		t.Errorf("top names %v, want bench.local first with 2", sec.TopNames)
	}
	if len(sec.TopClients) != 1 || sec.TopClients[0] != (fdstats.Top{Key: "127.0.0.9", Count: 4}) {
		t.Errorf("top clients %v, want 127.0.0.9 with 4", sec.TopClients)
	}
}

// TestLocalAddresses: the site map's question "does the DNS app answer
// this name" is answered from the running config's local data.
func TestLocalAddresses(t *testing.T) {
	r := benchResolver(t, "address=/ads.example/#", "address=/nx.example/", "host-record=app.lan,10.0.0.5")
	dash.resolver.Store(r)
	defer dash.resolver.CompareAndSwap(r, nil)
	for host, want := range map[string][]string{
		"bench.local":     {"127.0.0.1"},
		"www.bench.local": {"127.0.0.1"},
		"APP.lan":         {"10.0.0.5"},
		"ads.example":     {"0.0.0.0", "::"},
		"nx.example":      {"NXDOMAIN"},
		"forwarded.org":   nil,
	} {
		if got, ok := fdstats.ResolveLocal(host); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q (%v), want %q", host, got, ok, want)
		}
	}
}

// TestUnspecifiedIsIPIsUnspecified: unspecified answers as
// net.IP.IsUnspecified for both forms of IPv4 addresses, IPv6 addresses
// and malformed lengths.
func TestUnspecifiedIsIPIsUnspecified(t *testing.T) {
	for _, ip := range []net.IP{
		nil, {}, {0}, {0, 0, 0, 0, 0}, net.IPv4zero, net.IPv4zero.To4(), net.IPv6unspecified, net.ParseIP("0.0.0.0"),
		net.ParseIP("127.0.0.1"), net.ParseIP("127.0.0.1").To4(), net.ParseIP("::1"), net.ParseIP("::ffff:0.0.0.1"),
		net.ParseIP("100::"), make(net.IP, 17),
	} {
		if got, want := unspecified(ip), ip.IsUnspecified(); got != want {
			t.Errorf("unspecified(%v %d bytes) = %v, want %v", ip, len(ip), got, want)
		}
	}
}
