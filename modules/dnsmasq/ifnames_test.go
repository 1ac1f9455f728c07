package dnsmasq

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

func TestParseInterfaceNameAndDynamicHost(t *testing.T) {
	c, err := parse(t, "interface-name=a.test,eth0", "interface-name=b.test,eth0/4", "interface-name=c.test,eth0/6",
		"dynamic-host=d.test,0.0.0.5,::7,eth0", "dynamic-host=e.test,::7,eth0", "dynamic-host=f.test,::8,0.0.0.9,eth0")
	if err != nil {
		t.Fatal(err)
	}
	want := []conf.IfaceName{
		{Name: "a.test", Iface: "eth0"}, {Name: "b.test", Iface: "eth0", Family: 4}, {Name: "c.test", Iface: "eth0", Family: 6},
		{Name: "d.test", Iface: "eth0", Dynamic: true, Host4: netip.MustParseAddr("0.0.0.5"), Host6: netip.MustParseAddr("::7")},
		{Name: "e.test", Iface: "eth0", Dynamic: true, Host6: netip.MustParseAddr("::7")},
		{Name: "f.test", Iface: "eth0", Dynamic: true, Host4: netip.MustParseAddr("0.0.0.9"), Host6: netip.MustParseAddr("::8")},
	}
	if len(c.IfaceNames) != len(want) {
		t.Fatalf("got %+v", c.IfaceNames)
	}
	for i := range want {
		if c.IfaceNames[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, c.IfaceNames[i], want[i])
		}
	}
	for _, bad := range []string{
		"interface-name=a.test", "interface-name=a.test,lo/5", "interface-name=a.test,", // a label over 63: dnsmasq's check_name refuses it (a space it takes)
		"interface-name=" + strings.Repeat("x", 64) + ".test,lo",
		"interface-name=a.test,lo,x", "dynamic-host=d.test,,::7,lo", "dynamic-host=d.test,lo", "dynamic-host=d.test,1.2.3.4",
		"dynamic-host=d.test,1.2.3.x,lo", "dynamic-host=d.test,1.2.3.4,5.6.7.8,lo", "dynamic-host=d.test,1.2.3.4,",
	} {
		_, err := parse(t, bad)
		name, _, _ := strings.Cut(bad, "=")
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "line 1 of test.conf") {
			t.Errorf("%q: got %v, want an error naming --%s and the line", bad, err, name)
		}
	}
}

func TestMergeHost(t *testing.T) {
	for _, c := range []struct {
		net  string
		bits int
		host string
		want string
	}{
		{"127.0.0.1", 8, "0.0.0.5", "127.0.0.5"},
		{"127.0.0.1", 8, "1.2.3.4", "127.2.3.4"},
		{"192.168.78.3", 24, "0.0.0.8", "192.168.78.8"},
		{"10.1.2.3", 20, "0.0.255.255", "10.1.15.255"},
		{"::1", 128, "::7", "::1"},
		{"fd00::2", 64, "::9", "fd00::9"},
		{"fd00:1:2:3::2", 56, "::4:0:0:0:9", "fd00:1:2:4::9"},
	} {
		if got := mergeHost(netip.MustParseAddr(c.net), c.bits, netip.MustParseAddr(c.host)); got.String() != c.want {
			t.Errorf("mergeHost(%s/%d, %s) = %s, want %s", c.net, c.bits, c.host, got, c.want)
		}
	}
}

// loIfaces is a machine with lo (127.0.0.1/8, ::1/128) and eth0 with a
// link-local address, which interface-name never uses.
func loIfaces() []systemIface {
	return []systemIface{
		{name: "lo", loopback: true, addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, bits: []int{8, 128}},
		{name: "eth0", addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("fd00::2"), netip.MustParseAddr("fe80::1%eth0")}, bits: []int{24, 64, 64}},
	}
}

func TestIfacePTROrder(t *testing.T) {
	for conf, want := range map[string]string{
		// An interface-name line without the address hides the lines right
		// after it for the same interface; dynamic-host lines do not.
		"interface-name=lo.test,lo\ndynamic-host=dyn.test,0.0.0.5,lo":                                    "127.0.0.1=lo.test",
		"dynamic-host=dyn.test,0.0.0.5,lo\ninterface-name=lo.test,lo":                                    "127.0.0.1=lo.test 127.0.0.5=dyn.test",
		"interface-name=lo.test,lo\ninterface-name=n.test,nope0\ndynamic-host=dyn.test,0.0.0.5,lo":       "127.0.0.1=lo.test 127.0.0.5=dyn.test",
		"dynamic-host=a.test,0.0.0.5,lo\ndynamic-host=b.test,0.0.0.6,lo\ndynamic-host=c.test,0.0.0.1,lo": "127.0.0.1=c.test 127.0.0.5=a.test 127.0.0.6=b.test",
		"interface-name=lo4.test,lo/4\ninterface-name=lo.test,lo":                                        "127.0.0.1=lo4.test",
		"interface-name=e.test,eth0": "192.0.2.2=e.test fd00::2=e.test",
	} {
		c, err := parse(t, strings.Split(conf, "\n")...)
		if err != nil {
			t.Fatal(err)
		}
		ptr := ifacePTRs(resolveIfaceNames(c.IfaceNames, loIfaces()))
		var got []string
		for _, a := range []string{"127.0.0.1", "127.0.0.5", "127.0.0.6", "192.0.2.2", "fd00::2", "::1"} {
			rev := reverseName(netip.MustParseAddr(a))
			if n, ok := ptr[rev]; ok && a != "::1" {
				got = append(got, a+"="+n)
			}
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%q: got %q, want %q", conf, strings.Join(got, " "), want)
		}
	}
}

func TestInterfaceNameAnswers(t *testing.T) {
	c, err := parse(t, "no-resolv", "no-hosts", "local-ttl=4", "interface-name=lo.test,lo", "interface-name=e.test,eth0",
		"interface-name=none.test,nope0", "host-record=none.test,10.0.0.3", "host-record=lo.test,10.0.0.1",
		"txt-record=lo.test,hi", "dynamic-host=d.test,0.0.0.9,::9,eth0")
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(c, nil)
	s.addIfaceNames(resolveIfaceNames(c.IfaceNames, loIfaces()))
	r := &resolver{cfg: c, store: s, cache: newCache(10), fwd: &forwarder{Client: exchange.Client{Timeout: 10 * time.Millisecond}}, stats: &stats{}}
	ask := func(name string, qt uint16) string {
		m := new(dns.Msg)
		m.SetQuestion(name, qt)
		a := r.Resolve(context.Background(), m, false)
		var out []string
		for _, rr := range a.answer {
			out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
		}
		return dns.RcodeToString[a.rcode] + " " + strings.Join(out, "; ")
	}
	for q, want := range map[string]string{
		"lo.test. A":                  "NOERROR lo.test. 4 IN A 127.0.0.1",
		"lo.test. AAAA":               "NOERROR lo.test. 4 IN AAAA ::1",
		"lo.test. TXT":                `NOERROR lo.test. 4 IN TXT "hi"`,
		"e.test. AAAA":                "NOERROR e.test. 4 IN AAAA fd00::2",
		"d.test. A":                   "NOERROR d.test. 4 IN A 192.0.2.9",
		"d.test. AAAA":                "NOERROR d.test. 4 IN AAAA fd00::9",
		"none.test. A":                "REFUSED ", // the host-record is hidden: forwarded
		"1.0.0.127.in-addr.arpa. PTR": "NOERROR 1.0.0.127.in-addr.arpa. 4 IN PTR lo.test.",
		"1.0.0.10.in-addr.arpa. PTR":  "NOERROR 1.0.0.10.in-addr.arpa. 4 IN PTR lo.test.",
		"9.2.0.192.in-addr.arpa. PTR": "NOERROR 9.2.0.192.in-addr.arpa. 4 IN PTR d.test.",
	} {
		name, qt, _ := strings.Cut(q, " ")
		if got := ask(name, dns.StringToType[qt]); got != want {
			t.Errorf("%s: got %q, want %q", q, got, want)
		}
	}
}
