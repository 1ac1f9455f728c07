package integration

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// diffForwarded is diffScenario that also compares what each side sent to
// each upstream: the questions, in order, with their OPT record (UDP size,
// DO bit and the EDNS0 options with their payloads, options sorted).
func diffForwarded(t *testing.T, conf string, queries ...string) [2][]*fakeUpstream {
	t.Helper()
	sides := diffScenarioUpstreams(t, conf, nil, queries...)
	same := 0
	for id := range sides[0] {
		a, b := sides[0][id].EDNS(), sides[1][id].EDNS()
		for i := 0; i < max(len(a), len(b)); i++ {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				t.Errorf("upstream %d, query %d:\n  dnsmasq sent:   %s\n  frontdesk sent: %s", id+1, i+1, x, y)
				continue
			}
			same++
		}
	}
	t.Logf("%d forwarded queries identical (question and OPT record)", same)
	return sides
}

// TestDnsmasqDiffAddSubnet covers add-subnet with the client's address
// (not cached), with a fixed address (cached), the default /0, and a
// subnet the client sent (kept unless strip-subnet); other client options
// are passed on.
func TestDnsmasqDiffAddSubnet(t *testing.T) {
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nadd-subnet=24,56\nserver=/fixed.test/{UP2}\n",
		"a.test. A", "a.test. A", "b.test. A edns1232", "b.test. A edns1232",
		"c.test. A ecs=1.2.3.0/24", "c.test. A ecs=1.2.3.0/24", "d.test. A opt=10:0102030405060708",
		"e.test. A opt=10:0102030405060708 ecs=10.0.0.0/8", "f.test. AAAA ecs=fd00::/56", "g.test. MX",
	)
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nadd-subnet=1.2.3.4/24,fd00::1/48\nstrip-subnet\n",
		"a.test. A", "a.test. A", "b.test. A ecs=5.6.7.0/24", "b.test. A ecs=5.6.7.0/24", "c.test. A opt=8:00010000 opt=65001:aa",
		"nx.test. A", "nx.test. A",
	)
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nadd-subnet\n",
		"a.test. A", "a.test. A", "b.test. TXT edns4096", "c.test. A ecs=1.2.0.0/16",
		"echo.a.test. A edns1232", "echo.a.test. A edns1232", "echo.b.test. A opt=10:0102030405060708",
	)
	// The upstream echoes the subnet: a fresh answer carries the upstream's
	// options to the client, a cached one does not.
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nadd-subnet=24\n",
		"echo.a.test. A", "echo.b.test. A edns1232", "echo.b.test. A edns1232", "echo.c.test. A opt=10:0102030405060708",
		"echo.d.test. A ecs=127.0.0.0/24",
	)
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nstrip-subnet\nadd-subnet=32\ncache-size=0\n",
		"a.test. A", "b.test. A ecs=1.2.3.0/24 opt=10:0102030405060708",
	)
}

// TestDnsmasqDiffAddSubnetIPv6: an IPv6 client (::1) gets the IPv6 length
// of add-subnet, or a fixed address given for IPv6 clients; umbrella
// carries its address.
func TestDnsmasqDiffAddSubnetIPv6(t *testing.T) {
	sides := diffForwarded(t, "no-resolv\nno-hosts\nlisten-address=::1\nserver={UP1}\nadd-subnet=24,56\n",
		"a.test. A v6", "a.test. A v6", "b.test. AAAA edns1232 v6", "c.test. A v6 ecs=fd00::/48", "echo.d.test. A edns1232 v6",
	)
	if e := sides[1][0].EDNS(); len(e) == 0 || !strings.Contains(e[0], "8:00023800") {
		t.Errorf("the IPv6 client's query went upstream as %q, want an IPv6 /56 subnet", e)
	}
	diffForwarded(t, "no-resolv\nno-hosts\nlisten-address=::1\nserver={UP1}\nadd-subnet=24,1.2.3.4/16\numbrella=orgid:7\n",
		"a.test. A v6", "b.test. A",
	)
}

// TestDnsmasqDiffClientOptions: without any option the client's EDNS0
// options go upstream as they are, with the client's UDP size capped by
// edns-packet-max; strip-subnet alone removes a subnet and keeps the OPT
// record.
func TestDnsmasqDiffClientOptions(t *testing.T) {
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\n",
		"a.test. A", "b.test. A edns1232", "c.test. A edns4096", "d.test. A edns800",
		"e.test. A opt=10:0102030405060708 ecs=1.2.0.0/16", "f.test. A opt=65001:aabb",
		"echo.e.test. A opt=10:0102030405060708 ecs=1.2.0.0/16", "echo.e.test. A opt=10:0102030405060708 ecs=1.2.0.0/16",
		"echo.f.test. A", "echo.g.test. MX opt=65001:aabb",
	)
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nedns-packet-max=1000\nstrip-subnet\n",
		"c.test. A edns4096", "d.test. A edns800", "e.test. A ecs=1.2.3.0/24", "f.test. A ecs=1.2.3.0/24 opt=65001:aabb",
		"g.test. A",
	)
}

// TestDnsmasqDiffMACAndIDs covers add-mac (no MAC is known for a loopback
// client: nothing is added, and the answer is cached), strip-mac,
// add-cpe-id and umbrella (both replace an option of theirs the client
// sent; umbrella carries the client's address, so it is not cached).
func TestDnsmasqDiffMACAndIDs(t *testing.T) {
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nadd-mac\n",
		"a.test. A", "a.test. A", "b.test. A opt=65001:aabbccddeeff", "c.test. A edns1232",
	)
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nadd-mac=base64\nstrip-mac\nadd-cpe-id=cpe-42\n",
		"a.test. A", "a.test. A", "b.test. A opt=65001:aabbccddeeff opt=65073:0102 opt=65074:aa",
	)
	// (No deviceid here: dnsmasq 2.90 sometimes sends other bytes than the
	// configured hex, e.g. 1535557595b5d5f5 for 0123456789abcdef, one run
	// in four; its encoding is pinned by TestForwardOptions instead.)
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nadd-mac=text\numbrella=orgid:1234,assetid:5678\n",
		"a.test. A", "a.test. A", "b.test. A opt=20292:aabb opt=65073:01", "c.test. AAAA edns1232",
		"echo.a.test. A edns1232", "echo.a.test. A edns1232",
	)
	diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\numbrella\nadd-subnet=24\nadd-cpe-id=xy\n",
		"a.test. A", "b.test. A opt=65001:aa opt=20292:bb ecs=0.0.0.0/0 opt=65074:cc",
	)
}

// sourcePorts returns the distinct source ports of the UDP queries an
// upstream received, and their addresses.
func sourcePorts(t *testing.T, u *fakeUpstream) (ports, addrs map[string]bool) {
	t.Helper()
	ports, addrs = map[string]bool{}, map[string]bool{}
	for _, f := range u.Froms() {
		if strings.HasPrefix(f, "tcp ") {
			continue
		}
		h, p, err := net.SplitHostPort(f)
		if err != nil {
			t.Fatal(err)
		}
		ports[p], addrs[h] = true, true
	}
	return ports, addrs
}

// TestDnsmasqDiffQueryPort: with query-port, every UDP query comes from that
// one port (0: one port the system picks); over TCP it does not apply.
func TestDnsmasqDiffQueryPort(t *testing.T) {
	for _, conf := range []string{"query-port={QPORT}\nmin-port=40000\n", "query-port=0\nport-limit=2\n"} {
		sides := diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nserver=/two.test/{UP2}\n"+conf,
			"a.test. A", "b.test. A", "c.test. A tcp", "x.two.test. A", "d.test. TXT", "y.two.test. A",
		)
		for i, side := range []string{"dnsmasq", "frontdesk"} {
			all := map[string]bool{}
			for id := range sides[i] {
				ports, _ := sourcePorts(t, sides[i][id])
				for p := range ports {
					all[p] = true
				}
			}
			if len(all) != 1 {
				t.Errorf("%s with %q: queries came from ports %v, want one port", side, conf, all)
			}
		}
	}
}

// TestDnsmasqDiffServerSource covers server=...@source[#port] and
// server=...@interface: the queries leave from that address (and port), or
// through that interface; a source address the machine does not have, or
// an interface that does not exist, makes dnsmasq ignore the server (its
// domain answers REFUSED).
func TestDnsmasqDiffServerSource(t *testing.T) {
	sides := diffForwarded(t, `no-resolv
no-hosts
server={UP1}@127.0.0.2
server=/port.test/{UP2}@127.0.0.3#{QPORT}
server=/if.test/{UP2}@lo
server=/both.test/{UP2}@lo@127.0.0.4
server=/bad.test/{UP2}@192.0.2.123
server=/noif.test/{UP2}@nosuchif0
`,
		"a.test. A", "b.test. A", "a.test. A tcp", "x.port.test. A", "y.port.test. A", "x.if.test. A",
		"x.both.test. A", "x.bad.test. A", "x.noif.test. A",
	)
	for i, side := range []string{"dnsmasq", "frontdesk"} {
		if ports, addrs := sourcePorts(t, sides[i][0]); len(addrs) != 1 || !addrs["127.0.0.2"] || len(ports) < 2 {
			t.Errorf("%s: upstream 1 got queries from %v, ports %v; want 127.0.0.2, random ports", side, addrs, ports)
		}
		var hosts []string
		fixed := map[string]bool{}
		for _, f := range sides[i][1].Froms() {
			h, p, _ := net.SplitHostPort(f)
			hosts = append(hosts, h)
			if h == "127.0.0.3" {
				fixed[p] = true
			}
		}
		if want := "127.0.0.3 127.0.0.3 127.0.0.1 127.0.0.4"; strings.Join(hosts, " ") != want || len(fixed) != 1 {
			t.Errorf("%s: upstream 2 got queries from %v, want %s (one port for 127.0.0.3)", side, sides[i][1].Froms(), want)
		}
	}
}

// TestDnsmasqDiffFastRetry: with fast-dns-retry an unanswered UDP query is
// sent again (same ID, same port) after the first delay; the drop1.* names
// of the fake upstream drop the first query.
func TestDnsmasqDiffFastRetry(t *testing.T) {
	sides := diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nfast-dns-retry=300,5000\n",
		"drop1.a.test. A", "drop1.a.test. A", "drop1.b.test. TXT edns1232", "c.test. A",
	)
	for i, side := range []string{"dnsmasq", "frontdesk"} {
		u := sides[i][0]
		u.mu.Lock()
		ids, ports := append([]uint16(nil), u.ids...), append([]int(nil), u.ports...)
		u.mu.Unlock()
		if len(ids) < 4 || ids[0] != ids[1] || ports[0] != ports[1] || ids[2] != ids[3] {
			t.Errorf("%s: retries with IDs %v from ports %v, want each retry like its first try", side, ids, ports)
		}
	}
}

// TestDnsmasqDiffPortLimit: with port-limit=3 the first three sends of a
// query each come from a new port, then those ports take turns.
func TestDnsmasqDiffPortLimit(t *testing.T) {
	sides := diffForwarded(t, "no-resolv\nno-hosts\nserver={UP1}\nfast-dns-retry=100,5000\nport-limit=3\n",
		"drop3.a.test. A", "drop1.b.test. A",
	)
	for i, side := range []string{"dnsmasq", "frontdesk"} {
		u := sides[i][0]
		u.mu.Lock()
		ports := append([]int(nil), u.ports...)
		u.mu.Unlock()
		if len(ports) != 6 || ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] || ports[3] != ports[0] || ports[4] == ports[5] {
			t.Errorf("%s: source ports %v, want 3 ports, the first again, then 2 ports for the next query", side, ports)
		}
	}
}

var loopName = regexp.MustCompile(`^[0-9a-f]{8}\.test\. TXT$`)

// TestDnsmasqDiffLoopDetect: with dns-loop-detect, a TXT query for
// <8 hex digits>.test goes to each plain server at startup (not to the
// servers of a domain); the counts of diffScenario include it.
func TestDnsmasqDiffLoopDetect(t *testing.T) {
	sides := diffScenarioUpstreams(t, "no-resolv\nno-hosts\nserver={UP1}\nserver=/d.test/{UP2}\ndns-loop-detect\n", nil,
		"a.test. A sleep300ms", "x.d.test. A", "a.test. A",
	)
	for i, side := range []string{"dnsmasq", "frontdesk"} {
		n := 0
		for _, q := range sides[i][0].Log() {
			if loopName.MatchString(q) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: upstream 1 got %d loop-detection queries, want 1: %q", side, n, sides[i][0].Log())
		}
	}
}

// TestDnsmasqDiffLoopDetected builds a real forwarding loop on loopback:
// the first server relays every query back to the server under test. Its
// probe comes back, so it is taken out, even with strict-order, and the
// queries go to the second server; the looping probe is not answered.
func TestDnsmasqDiffLoopDetected(t *testing.T) {
	requirePeer(t, "dnsmasq")
	var addrs [2]string
	var loops, ups [2]*fakeUpstream
	for i := range addrs {
		port := freeDNSPort(t)
		loops[i], ups[i] = startFakeUpstream(t, 3), startFakeUpstream(t, 1)
		loops[i].forwardTo("127.0.0.1:" + strconv.Itoa(port))
		conf := "no-resolv\nno-hosts\nstrict-order\ndns-loop-detect\nserver=" + loops[i].Dnsmasq() + "\nserver=" + ups[i].Dnsmasq() + "\n"
		if i == 0 {
			addrs[i] = startDnsmasq(t, conf, port).Addr
		} else {
			addrs[i] = startDNSConf(t, conf, port).addr
		}
	}
	time.Sleep(1500 * time.Millisecond) // the probe goes round the loop
	qq := qs("a.test. A", "b.test. TXT", "nx.test. A")
	t.Logf("%d/%d differential cases identical", runDiff(t, dnsPair{addrs[0], addrs[1]}, qq), len(qq))
	for i, side := range []string{"dnsmasq", "frontdesk"} {
		// The loop forwarder relayed the probe once, and got nothing else.
		if l := loops[i].Log(); len(l) != 1 || !loopName.MatchString(l[0]) {
			t.Errorf("%s: the looping server got %q, want only the probe", side, l)
		}
		if l := ups[i].Log(); len(l) != 4 || !loopName.MatchString(l[0]) {
			t.Errorf("%s: the good server got %q, want the probe and the 3 queries", side, l)
		}
	}
}

// TestDnsmasqReloadQueryPort: the query-port socket and a server's
// @source#port socket stay usable across reloads (the new config takes
// them over), and a reload that changes the port moves to the new one.
func TestDnsmasqReloadQueryPort(t *testing.T) {
	up1, up2 := startFakeUpstream(t, 1), startFakeUpstream(t, 2)
	var ports [4]int
	for i := range ports {
		ports[i] = freeDNSPort(t)
	}
	lines := func(qport int) []string {
		return []string{"no-resolv", "no-hosts", "query-port=" + strconv.Itoa(qport), "server=" + up1.Dnsmasq(),
			fmt.Sprintf("server=/two.test/%s@127.0.0.2#%d", up2.Dnsmasq(), ports[3])}
	}
	srv := startDNS(t, dnsSetup{port: ports[0], lines: lines(ports[1])})
	addr := srv.addr
	load := func(qport int) {
		srv.admin.reload(t, srv.caddyfile(lines(qport)...))
		time.Sleep(150 * time.Millisecond)
	}
	for i, qport := range []int{ports[1], ports[1], ports[2]} {
		if i > 0 {
			load(qport)
		}
		for _, n := range []string{"a", "b"} {
			name := fmt.Sprintf("%s%d.test.", n, i)
			if r := query(t, addr, name, dns.TypeA); len(r.Answer) != 1 {
				t.Fatalf("%s: %v", name, r)
			}
			if r := query(t, addr, "x."+name[:len(name)-6]+".two.test.", dns.TypeA); len(r.Answer) != 1 {
				t.Fatalf("two.test after reload %d: %v", i, r)
			}
		}
		froms := up1.Froms()
		for _, f := range froms[len(froms)-2:] {
			if want := "127.0.0.1:" + strconv.Itoa(qport); f != want {
				t.Errorf("after reload %d: query from %s, want %s", i, f, want)
			}
		}
	}
	for _, f := range up2.Froms() {
		if want := "127.0.0.2:" + strconv.Itoa(ports[3]); f != want {
			t.Errorf("two.test query from %s, want %s", f, want)
		}
	}
}
