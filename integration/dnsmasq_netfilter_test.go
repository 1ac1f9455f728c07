package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// requireNetfilter runs cmd (ipset or nft) with args to create a kernel
// object; when the kernel or the tool refuses, the test fails under CI=true
// and is skipped otherwise.
func requireNetfilter(t *testing.T, cmd string, args ...string) {
	t.Helper()
	requirePeer(t, map[string]string{"ipset": "ipset", "nft": "nftables"}[cmd])
	out, err := exec.Command(cmd, args...).CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s %s: %v: %s (needs root and the kernel's netfilter modules)", cmd, strings.Join(args, " "), err, out)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// netfilterRun runs a netfilter tool and returns its output.
func netfilterRun(t *testing.T, cmd string, args ...string) string {
	t.Helper()
	out, err := exec.Command(cmd, args...).CombinedOutput()
	if err != nil {
		t.Errorf("%s %s: %v: %s", cmd, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ipsetMembers lists the addresses in an ipset, sorted.
func ipsetMembers(t *testing.T, set string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(netfilterRun(t, "ipset", "list", "-o", "save", set), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "add" {
			out = append(out, f[2])
		}
	}
	slices.Sort(out)
	return out
}

// makeIpsets creates, for each side ("dm", "fd"), the ipsets prefix+side+s
// for each suffix s with its ipset create arguments, destroyed at cleanup.
// It returns the prefix.
func makeIpsets(t *testing.T, sets map[string][]string) string {
	t.Helper()
	prefix := fmt.Sprintf("fdt%d", os.Getpid()%100000)
	for _, side := range []string{"dm", "fd"} {
		for suffix, args := range sets {
			name := prefix + side + suffix
			requireNetfilter(t, "ipset", append([]string{"create", name}, args...)...)
			t.Cleanup(func() { _ = exec.Command("ipset", "destroy", name).Run() })
		}
	}
	return prefix
}

// compareIpsets checks that each side's copy of each set has the same
// members, and that the members are want (sorted) for the sets in want.
func compareIpsets(t *testing.T, prefix string, sets map[string][]string, want map[string][]string) {
	t.Helper()
	same := 0
	for suffix := range sets {
		dm, fd := ipsetMembers(t, prefix+"dm"+suffix), ipsetMembers(t, prefix+"fd"+suffix)
		if !slices.Equal(dm, fd) {
			t.Errorf("ipset %s: dnsmasq put %q, frontdesk %q", suffix, dm, fd)
			continue
		}
		if w, ok := want[suffix]; ok && !slices.Equal(dm, w) {
			t.Errorf("ipset %s: both put %q, the test expects %q (update the test)", suffix, dm, w)
			continue
		}
		t.Logf("ipset %s: %q", suffix, dm)
		same++
	}
	t.Logf("%d/%d ipsets identical", same, len(sets))
}

// TestDnsmasqDiffIpset: ipset= puts the A/AAAA addresses of forwarded
// answers (CNAME chains included) for names under its domains into the sets
// (IPv4 ones into inet sets, IPv6 ones into inet6 sets), the most specific
// domain winning, /#/ matching every name and /*x/ no name; local answers
// add nothing.
func TestDnsmasqDiffIpset(t *testing.T) {
	sets := map[string][]string{
		"v4":   {"hash:ip"},
		"v6":   {"hash:ip", "family", "inet6"},
		"deep": {"hash:ip"},
		"all":  {"hash:ip"},
		"loc":  {"hash:ip"},
		"star": {"hash:ip"},
	}
	p := makeIpsets(t, sets)
	conf := fmt.Sprintf(`no-resolv
server={UP1}
server=/other.example/{UP2}
ipset=/set.example/sub.other.example/%[1]s{SIDE}v4,%[1]s{SIDE}v6
ipset=/deep.set.example/%[1]s{SIDE}deep
ipset=/#/%[1]s{SIDE}all
ipset=/*wild.example/%[1]s{SIDE}star
address=/local.example/10.7.7.7
ipset=/local.example/%[1]s{SIDE}loc
`, p)
	diffScenario(t, conf,
		"a.set.example. A", "a.set.example. AAAA", "a.set.example. A",
		"chain.set.example. A", "multi.set.example. A", "x.deep.set.example. A",
		"sub.other.example. A", "sub.other.example. AAAA", "no.other.example. A",
		"nx.set.example. A", "priv.set.example. A", "a.set.example. MX",
		"xwild.example. A", "wild.example. AAAA", "a.wild.example. MX", "b.wild.example. TXT", "local.example. A", "ext.local.example. AAAA",
	)
	compareIpsets(t, p, sets, map[string][]string{
		"v4":   {"10.0.0.1", "10.0.0.2", "10.1.1.1", "10.2.0.1", "10.2.0.2", "10.2.0.3", "192.168.1.1"},
		"v6":   {"fd00::1", "fd00::2"},
		"deep": {"10.0.0.1"},
		"all":  {"10.0.0.1", "10.0.0.2"}, // xwild.example and no.other.example: /#/ is every name
		"loc":  nil,                      // address= answers are not forwarded
		"star": nil,                      // /*wild.example/ is taken literally
	})
}

// nftMembers lists the elements of an nftables set, sorted.
func nftMembers(t *testing.T, family, table, set string) []string {
	t.Helper()
	var doc struct {
		Nftables []struct {
			Set *struct {
				Elem []json.RawMessage `json:"elem"`
			} `json:"set"`
		} `json:"nftables"`
	}
	out := netfilterRun(t, "nft", "-j", "list", "set", family, table, set)
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Errorf("nft -j list set %s %s %s: %v: %s", family, table, set, err, out)
		return nil
	}
	var elems []string
	for _, o := range doc.Nftables {
		if o.Set == nil {
			continue
		}
		for _, e := range o.Set.Elem {
			var s string
			if json.Unmarshal(e, &s) != nil {
				s = string(e) // an element with attributes: compared as JSON
			}
			elems = append(elems, s)
		}
	}
	slices.Sort(elems)
	return elems
}

// nftSpec is one nftables set of a test: family, table suffix, set, type.
type nftSpec struct{ family, table, set, typ string }

// makeNFTSets creates, for each side ("dm", "fd"), the tables prefix+side+
// table and their sets, deleted at cleanup. It returns the prefix.
func makeNFTSets(t *testing.T, specs []nftSpec) string {
	t.Helper()
	prefix := fmt.Sprintf("fdt%d", os.Getpid()%100000)
	made := map[string]bool{}
	for _, side := range []string{"dm", "fd"} {
		for _, s := range specs {
			table := prefix + side + s.table
			if key := s.family + " " + table; !made[key] {
				made[key] = true
				requireNetfilter(t, "nft", "add", "table", s.family, table)
				t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", s.family, table).Run() })
			}
			requireNetfilter(t, "nft", "add", "set", s.family, table, s.set, "{ type "+s.typ+"; }")
		}
	}
	return prefix
}

// TestDnsmasqDiffNftset: nftset= puts the same addresses as ipset= into
// nftables sets; 4# and 6# keep only A or AAAA records, and a set of the
// other address type gets nothing.
func TestDnsmasqDiffNftset(t *testing.T) {
	specs := []nftSpec{
		{"inet", "a", "s4", "ipv4_addr"}, {"inet", "a", "s6", "ipv6_addr"}, {"inet", "a", "mixed", "ipv4_addr"},
		{"ip", "b", "d", "ipv4_addr"}, {"inet", "b", "d", "ipv4_addr"},
		{"inet", "a", "iv", "ipv4_addr; flags interval"},
	}
	p := makeNFTSets(t, specs)
	conf := fmt.Sprintf(`no-resolv
server={UP1}
server=/other.example/{UP2}
nftset=/set.example/4#inet#%[1]s{SIDE}a#s4,6#inet#%[1]s{SIDE}a#s6
nftset=/mixed.example/inet#%[1]s{SIDE}a#mixed
nftset=/def.example/%[1]s{SIDE}b#d
nftset=/interval.example/inet#%[1]s{SIDE}a#iv
`, p)
	diffScenario(t, conf,
		"a.set.example. A", "a.set.example. AAAA", "chain.set.example. A", "multi.set.example. A",
		"x.mixed.example. AAAA", "x.mixed.example. A", "x.def.example. A", "nx.set.example. A",
		"multi.interval.example. A", "x.interval.example. A",
	)
	same := 0
	for _, s := range specs {
		dm, fd := nftMembers(t, s.family, p+"dm"+s.table, s.set), nftMembers(t, s.family, p+"fd"+s.table, s.set)
		if !slices.Equal(dm, fd) {
			t.Errorf("nft set %s %s %s: dnsmasq put %q, frontdesk %q", s.family, s.table, s.set, dm, fd)
			continue
		}
		t.Logf("nft set %s %s %s: %q", s.family, s.table, s.set, dm)
		same++
	}
	t.Logf("%d/%d nftables sets identical", same, len(specs))
}

// connmarkScenario starts dnsmasq and Frontdesk with conf ({UP1} is a fake
// upstream per side), gives the flows of queries to either (UDP and TCP) the
// conntrack mark mark with an nftables output rule, and compares the answers.
// before, when not nil, runs before the queries with the nftables table
// (inet family, with an output chain "out") and each side's upstream.
func connmarkScenario(t *testing.T, conf string, mark uint32, before func(table string, ups [2]*fakeUpstream), queries ...string) {
	t.Helper()
	var confs [2]string
	var ups [2]*fakeUpstream
	for i := range confs {
		ups[i] = startFakeUpstream(t, 1)
		confs[i] = strings.ReplaceAll(conf, "{UP1}", ups[i].Dnsmasq())
	}
	p := startDNSPair(t, confs[0], confs[1])
	var ports []string
	for _, a := range []string{p.dnsmasq, p.frontdesk} {
		ports = append(ports, a[strings.LastIndexByte(a, ':')+1:])
	}
	table := fmt.Sprintf("fdtcm%d", os.Getpid()%100000)
	requireNetfilter(t, "nft", "add", "table", "inet", table)
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", table).Run() })
	netfilterRun(t, "nft", "add", "chain", "inet", table, "out", "{ type filter hook output priority mangle; }")
	set := "{ " + strings.Join(ports, ", ") + " }"
	for _, proto := range []string{"udp", "tcp"} {
		netfilterRun(t, "nft", "add", "rule", "inet", table, "out", "ip", "daddr", "127.0.0.1", proto, "dport", set,
			"ct", "mark", "set", fmt.Sprint(mark))
	}
	if before != nil {
		before(table, ups)
	}
	qq := qs(queries...)
	n := runDiff(t, p, qq)
	t.Logf("%d/%d differential cases identical", n, len(qq))
	if a, b := ups[0].queries.Load(), ups[1].queries.Load(); a != b {
		t.Errorf("upstream received %d queries from dnsmasq, %d from frontdesk:\n  dnsmasq:   %q\n  frontdesk: %q",
			a, b, ups[0].Log(), ups[1].Log())
	}
}

// TestDnsmasqDiffConnmark: with connmark-allowlist-enable, a query whose
// flow has a conntrack mark is answered only for names its allowlist's
// patterns match ('*' within one label); the others, local names
// included, get REFUSED with EDE 15 (Blocked).
func TestDnsmasqDiffConnmark(t *testing.T) {
	conf := `no-resolv
server={UP1}
connmark-allowlist-enable
connmark-allowlist=5,*.allowed.example/a*b*.example.com
connmark-allowlist=7,*
address=/local.example/10.9.9.9
address=/x.allowed.example/10.9.9.8
`
	connmarkScenario(t, conf, 5, nil,
		"x.allowed.example. A", "y.allowed.example. A", "a.b.allowed.example. A", "allowed.example. A",
		"other.example. A", "local.example. A", "axxbyy.example.com. A", "ab.example.com. AAAA",
		"a.example.com. A", "other.example. A tcp", "y.allowed.example. MX tcp", "other.example. A edns1232",
		"x.allowed.example. A edns1232",
	)
}

// TestDnsmasqDiffConnmarkMask: the connmark-allowlist-enable mask and a
// list's mask apply before the comparison; a mark without a list is
// refused everything, and a masked mark of 0 counts as no mark.
func TestDnsmasqDiffConnmarkMask(t *testing.T) {
	conf := `no-resolv
server={UP1}
connmark-allowlist-enable=12
connmark-allowlist=4/4,*.four.example
connmark-allowlist=8,*.eight.example
address=/local.example/10.9.9.9
`
	qs := []string{"a.four.example. A", "a.eight.example. A", "local.example. A", "other.example. A"}
	for _, mark := range []uint32{0x15, 0x1, 0x8} { // 0x15&12 = 4; 0x1&12 = 0; 0x8 = 8
		t.Run(fmt.Sprintf("mark%d", mark), func(t *testing.T) { connmarkScenario(t, conf, mark, nil, qs...) })
	}
}

// TestDnsmasqDiffConntrack: with conntrack, the queries forwarded for a
// client whose flow has a conntrack mark leave with that mark (SO_MARK), over
// UDP and TCP; answers from the cache or local data send nothing.
func TestDnsmasqDiffConntrack(t *testing.T) {
	conf := `no-resolv
server={UP1}
conntrack
address=/local.example/10.9.9.9
`
	var table string
	var ups [2]*fakeUpstream
	connmarkScenario(t, conf, 5, func(tb string, u [2]*fakeUpstream) {
		table, ups = tb, u
		for i, side := range []string{"dm", "fd"} {
			port := u[i].Addr[strings.LastIndexByte(u[i].Addr, ':')+1:]
			for _, proto := range []string{"udp", "tcp"} {
				netfilterRun(t, "nft", "add", "counter", "inet", tb, side+proto)
				netfilterRun(t, "nft", "add", "rule", "inet", tb, "out", proto, "dport", port,
					"meta", "mark", "5", "counter", "name", side+proto)
			}
		}
	}, "a.example. A", "a.example. A", "local.example. A", "b.example. AAAA tcp", "c.example. MX")
	counter := func(name string) int {
		var doc struct {
			Nftables []struct {
				Counter *struct {
					Packets int `json:"packets"`
				} `json:"counter"`
			} `json:"nftables"`
		}
		out := netfilterRun(t, "nft", "-j", "list", "counter", "inet", table, name)
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("nft counter: %v: %s", err, out)
		}
		for _, o := range doc.Nftables {
			if o.Counter != nil {
				return o.Counter.Packets
			}
		}
		return 0
	}
	// Each forwarded UDP query is one packet; TCP connections differ in
	// their packets (acks, closing), so only their marking is compared.
	du, fu, dt, ft := counter("dmudp"), counter("fdudp"), counter("dmtcp"), counter("fdtcp")
	t.Logf("marked packets to the upstream: UDP dnsmasq %d, frontdesk %d; TCP dnsmasq %d, frontdesk %d (queries %d, %d)",
		du, fu, dt, ft, ups[0].queries.Load(), ups[1].queries.Load())
	if du != 2 || fu != du {
		t.Errorf("marked UDP queries to the upstream: dnsmasq %d, frontdesk %d, want 2", du, fu)
	}
	if dt == 0 || ft == 0 {
		t.Errorf("marked TCP packets to the upstream: dnsmasq %d, frontdesk %d, want some on both", dt, ft)
	}
}
