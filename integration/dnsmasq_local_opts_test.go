package integration

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// TestDnsmasqDiffInterfaceName covers interface-name= on the loopback
// interface (127.0.0.1, ::1): both families, /4 and /6, a missing interface,
// its precedence over hosts entries, address= and the reverse of
// host-record, CNAMEs to it, other record types of the same name, and a
// name under local=. (Besides: a host-record with two addresses of a
// family keeps the last one.)
func TestDnsmasqDiffInterfaceName(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
local-ttl=7
interface-name=lo4.test,lo/4
interface-name=lo.test,lo
interface-name=lo6.test,lo/6
interface-name=none.test,nonexist0
host-record=lo.test,10.0.0.1
host-record=none.test,10.0.0.3
host-record=other.test,127.0.0.1
txt-record=lo.test,hello
cname=c.test,lo.test
local=/loc.test/
interface-name=a.loc.test,lo
interface-name=n.loc.test,nonexist0
interface-name=v4.loc.test,lo/4
address=/adr.test/9.9.9.9
interface-name=adr.test,lo/4
host-record=two.test,1.1.1.1,::1,2.2.2.2,::2
expand-hosts
domain=dom.test
interface-name=plain,lo
`
	diffScenario(t, conf,
		"lo.test. A", "lo.test. AAAA", "lo.test. ANY", "lo.test. TXT", "lo.test. MX", "LO.Test. A", "x.lo.test. A",
		"lo4.test. A", "lo4.test. AAAA", "lo4.test. ANY", "lo6.test. AAAA", "lo6.test. A",
		"none.test. A", "none.test. AAAA", "other.test. A",
		"1.0.0.127.in-addr.arpa. PTR", "1.0.0.10.in-addr.arpa. PTR", "3.0.0.10.in-addr.arpa. PTR",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR",
		"c.test. A", "c.test. AAAA", "a.loc.test. A", "a.loc.test. MX", "b.loc.test. A", "n.loc.test. A", "v4.loc.test. AAAA",
		"adr.test. A", "adr.test. AAAA", "x.adr.test. A",
		"plain. A", "plain.dom.test. A", "two.test. A", "two.test. AAAA", "1.1.1.1.in-addr.arpa. PTR", "2.2.2.2.in-addr.arpa. PTR",
	)
}

// TestDnsmasqDiffDynamicHost covers dynamic-host= on the loopback interface
// (127.0.0.1/8, ::1/128): the network part comes from the interface, the
// host part from the line; and which line answers a PTR query when
// interface-name and dynamic-host lines share an interface (an
// interface-name line without the address hides the lines right after it
// for the same interface, measured on 2.90).
func TestDnsmasqDiffDynamicHost(t *testing.T) {
	queries := []string{
		"dyn.test. A", "dyn.test. AAAA", "dyn.test. ANY", "dyn2.test. A", "dynlo.test. A", "dynlo.test. AAAA",
		"dyn6.test. A", "dyn6.test. AAAA", "dyn6.test. MX",
		"5.0.0.127.in-addr.arpa. PTR", "6.0.0.127.in-addr.arpa. PTR", "4.3.2.127.in-addr.arpa. PTR",
		"1.0.0.127.in-addr.arpa. PTR", "2.0.0.10.in-addr.arpa. PTR",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR",
	}
	t.Run("dynamic-first", func(t *testing.T) {
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
local-ttl=3
dynamic-host=dyn.test,0.0.0.5,::7,lo
interface-name=lo.test,lo
dynamic-host=dyn2.test,0.0.0.6,lo
dynamic-host=dynlo.test,1.2.3.4,::7,lo
dynamic-host=dyn6.test,::7,lo
host-record=dyn6.test,10.0.0.2
`, queries...)
	})
	t.Run("interface-first", func(t *testing.T) {
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
interface-name=lo.test,lo
interface-name=n.test,nonexist0
dynamic-host=dyn.test,0.0.0.5,lo
dynamic-host=dyn2.test,0.0.0.6,lo
interface-name=lo2.test,lo
dynamic-host=dynlo.test,1.2.3.4,lo
dynamic-host=dyn6.test,::7,lo
`, queries...)
	})
}

// TestDnsmasqDiffDomainRange covers domain=<name>,<range>[,local]: which
// domain expand-hosts adds (the range's, else the plain domain=), the PTR
// answers, and the forward and reverse local= zones that "local" adds
// for the <ip>/<len> form (split at label boundaries: /23, /12, /28, /60,
// /62), but not for the <start>,<end> form; of overlapping ranges the
// last line wins. Under local= (and address=
// without an address), a name with local names below it answers NODATA,
// not NXDOMAIN.
func TestDnsmasqDiffDomainRange(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
addn-hosts={DIR}/h.hosts
expand-hosts
domain=def.test
domain=lan.test,192.168.1.0/24,local
domain=rng.test,10.0.0.10,10.0.0.20
domain=v6.test,fd00::/64,local
domain=a.test,192.168.4.0/23,local
domain=b.test,10.16.0.0/12,local
domain=c.test,172.16.5.10,172.16.5.20,local
domain=d.test,fd00:1::/60,local
domain=f.test,fd00:2::/62,local
domain=g.test,192.168.7.16/28,local
domain=r1.test,10.3.0.1,10.3.0.9
domain=small.test,10.3.0.0/24
domain=big.test,10.0.0.0/8
domain=r2.test,10.4.0.1,10.4.0.9
address=/adr.test/
host-record=h.adr.test,1.2.3.4
local=/l.test/
host-record=x.y.z.l.test,1.2.3.4
`
	hosts := "192.168.1.5 inr\n192.168.2.5 outr\n10.0.0.15 rng\n10.0.0.25 rngout\nfd00::5 v6in\n192.168.5.9 ina\n172.16.5.11 inc\n10.3.0.5 ov\n10.4.0.5 ov2\n"
	rev6 := func(prefix string) string { // fd00:..:X::1 reverse names
		return "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." + prefix + ".ip6.arpa. PTR"
	}
	diffScenarioFiles(t, conf, map[string]string{"h.hosts": hosts},
		"inr. A", "inr.lan.test. A", "inr.def.test. A", "outr.def.test. A", "outr.lan.test. A",
		"rng.rng.test. A", "rng.def.test. A", "rngout.def.test. A", "rngout.rng.test. A",
		"v6in.v6.test. AAAA", "v6in.def.test. AAAA", "ina.a.test. A", "inc.c.test. A", "inc.def.test. A",
		"5.1.168.192.in-addr.arpa. PTR", "5.2.168.192.in-addr.arpa. PTR", "15.0.0.10.in-addr.arpa. PTR",
		"25.0.0.10.in-addr.arpa. PTR", "9.5.168.192.in-addr.arpa. PTR", "11.5.16.172.in-addr.arpa. PTR",
		"x.lan.test. A", "lan.test. A", "lan.test. SOA", "x.a.test. A", "a.test. A", "x.c.test. A", "c.test. A",
		"x.rng.test. A", "x.v6.test. A", "x.def.test. A", "x.d.test. A", "x.f.test. A", "x.g.test. A",
		"6.1.168.192.in-addr.arpa. PTR", "1.168.192.in-addr.arpa. PTR",
		"1.4.168.192.in-addr.arpa. PTR", "1.6.168.192.in-addr.arpa. PTR", "168.192.in-addr.arpa. PTR",
		"1.2.16.10.in-addr.arpa. PTR", "1.2.31.10.in-addr.arpa. PTR", "1.2.32.10.in-addr.arpa. PTR", "1.2.15.10.in-addr.arpa. PTR",
		"12.5.16.172.in-addr.arpa. PTR",
		"17.7.168.192.in-addr.arpa. PTR", "31.7.168.192.in-addr.arpa. PTR", "32.7.168.192.in-addr.arpa. PTR", "7.168.192.in-addr.arpa. PTR",
		rev6("6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f"),
		rev6("5.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f"), rev6("0.1.0.0.0.0.0.0.1.0.0.0.0.0.d.f"),
		rev6("3.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f"), rev6("4.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f"),
		"ov.r1.test. A", "ov.small.test. A", "ov.big.test. A", "ov2.r2.test. A", "ov2.big.test. A", "rng.big.test. A",
		"adr.test. A", "y.z.l.test. A", "z.l.test. MX", "l.test. A", "q.l.test. A", "3.2.1.in-addr.arpa. PTR",
	)
}

// TestDnsmasqDiffConfScript covers conf-script=: the value is run by
// `sh -c` (arguments and shell syntax as written), its output is read as
// configuration lines, comments included. (A conf-script line in a
// script's output works in Frontdesk; dnsmasq 2.90 runs it too but the
// inner script's output sometimes fails with an I/O error, so it is not
// compared.)
func TestDnsmasqDiffConfScript(t *testing.T) {
	script := "echo \"address=/s.test/1.2.3.$1\"\necho '# a comment'\necho \"address=/s2.test/$2\"\n"
	diffScenarioFiles(t, `
no-resolv
no-hosts
server={UP1}
conf-script=sh {DIR}/s.sh 9 5.6.7.8
conf-script=echo address=/e.test/1.2.3.4 ; echo address=/f.test/4.4.4.4
conf-script="sh {DIR}/s.sh 7 1.1.1.1"
conf-script=
`, map[string]string{"s.sh": script},
		"s.test. A", "s2.test. A", "e.test. A", "f.test. A", "x.test. A")
}

// TestDnsmasqConfScriptErrors: a script that fails, and a script whose
// output has a bad line, fail the configuration for dnsmasq --test and
// frontdesk validate alike, and both errors name the script.
func TestDnsmasqConfScriptErrors(t *testing.T) {
	requirePeer(t, "dnsmasq")
	dir := t.TempDir()
	for name, c := range map[string]struct{ line, want string }{
		"exit":     {"conf-script=exit 3", "exit 3 returns non-zero error code"},
		"bad-line": {"conf-script=echo address=/x/1.2.3.4.5", "output from echo address=/x/1.2.3.4.5"},
		"missing":  {"conf-script=" + filepath.Join(dir, "nope.sh"), "nope.sh returns non-zero error code"},
	} {
		t.Run(name, func(t *testing.T) {
			conf := filepath.Join(dir, name+".conf")
			writeFile(t, conf, c.line+"\n")
			dmOut, dmErr, fdOut, fdErr := validateBoth(t, dir, conf)
			if dmErr == nil || fdErr == nil {
				t.Fatalf("both should fail; dnsmasq: %v %s; frontdesk: %v %s", dmErr, dmOut, fdErr, lastLines(string(fdOut), 3))
			}
			if !strings.Contains(string(dmOut), c.want) || !strings.Contains(string(fdOut), c.want) {
				t.Errorf("both should say %q:\ndnsmasq: %s\nfrontdesk: %s", c.want, dmOut, lastLines(string(fdOut), 3))
			}
		})
	}
}

// TestDnsmasqPortZero: port=0 disables DNS for both: dnsmasq says so and
// binds no socket; Frontdesk loads the configuration, binds no DNS socket
// and its admin API still answers (records can be added; nothing serves
// them until a configuration with a port is loaded).
func TestDnsmasqPortZero(t *testing.T) {
	requirePeer(t, "dnsmasq")
	dir := t.TempDir()
	conf := filepath.Join(dir, "p.conf")
	if err := os.WriteFile(conf, []byte("port=0\nno-resolv\nno-hosts\naddress=/x.test/1.2.3.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-k", "-C", conf, "--pid-file=" + filepath.Join(dir, "dm.pid"), "--log-facility=-"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root", "--group=root")
	}
	dm, err := harness.Start(dir, "dnsmasq-port0", nil, dir, append([]string{harness.DnsmasqBin()}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, dm)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(dm.Log(), "DNS disabled") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(dm.Log(), "DNS disabled") {
		t.Fatalf("dnsmasq with port=0 should say DNS disabled:\n%s", dm.Log())
	}

	srv := startDNS(t, dnsSetup{confFile: conf, noDNS: true})
	fd := srv.fd
	if code, body := srv.admin.do(t, "GET", "/dnsmasq/stats", ""); code != 200 {
		t.Errorf("admin API with port=0: %d %s", code, body)
	}
	if code, body := srv.admin.do(t, "POST", "/dnsmasq/records", `{"records": ["live.test. 60 IN A 10.9.8.7"]}`); code != 200 {
		t.Errorf("adding a record with port=0: %d %s", code, body)
	}
	if !strings.Contains(fd.Log(), "DNS disabled (port=0)") {
		t.Errorf("frontdesk should log that DNS is disabled:\n%s", lastLines(fd.Log(), 5))
	}
	_, adminPort, _ := strings.Cut(fd.Admin, ":")
	for _, pid := range []int{dm.PID(), fd.Process.PID()} {
		if n := listeningSockets(t, pid, adminPort); n != 0 {
			t.Errorf("process %d listens on %d DNS sockets with port=0", pid, n)
		}
	}
}

// listeningSockets counts the UDP sockets and listening TCP sockets (other
// than the one on port except, the admin API) that process pid holds, from
// /proc.
func listeningSockets(t *testing.T, pid int, except string) int {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Skipf("cannot read /proc: %v", err)
	}
	for _, f := range fds {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + f.Name())
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, tab := range []string{"udp", "udp6", "tcp", "tcp6"} {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/" + tab)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			// TCP state 0A is LISTEN.
			if strings.HasPrefix(tab, "tcp") && f[3] != "0A" {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if port, err := strconv.ParseUint(hexPort, 16, 16); err == nil && strconv.FormatUint(port, 10) == except {
				continue
			}
			n++
		}
	}
	return n
}

// TestDnsmasqControlPlaneOptions: enable-dbus and enable-ubus load (as
// with dnsmasq --test), with one warning that names each line and says
// the admin API replaces them; DNS keeps working.
func TestDnsmasqControlPlaneOptions(t *testing.T) {
	srv := startDNSLines(t, "no-resolv", "no-hosts", "enable-dbus", "enable-ubus=my.name", "address=/x.test/1.2.3.4")
	fd, addr := srv.fd, srv.addr
	if r := query(t, addr, "x.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("DNS with enable-dbus: %v", r)
	}
	var warnings []string
	for _, l := range strings.Split(fd.Log(), "\n") {
		if strings.Contains(l, "D-Bus/ubus") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `"level":"warn"`) || !strings.Contains(warnings[0], "admin API") ||
		!strings.Contains(warnings[0], `Caddyfile:7 enable-dbus"`) || !strings.Contains(warnings[0], `Caddyfile:8 enable-ubus=my.name"`) {
		t.Errorf("want one warning naming both lines, got %q", warnings)
	}
}

// TestDnsmasqDiffLocaliseQueries covers localise-queries: both servers
// listen on 127.0.0.1 (an address of lo, network 127.0.0.0/8) and on
// 127.0.0.2 (not an address of any interface). A name of the hosts files
// or host-record with several IPv4 addresses answers, at 127.0.0.1 over
// UDP and TCP, only those on 127.0.0.0/8 when it has any; at 127.0.0.2
// and at ::1 nothing is localised. IPv6 addresses and address= are never filtered.
func TestDnsmasqDiffLocaliseQueries(t *testing.T) {
	dir := t.TempDir()
	hosts := filepath.Join(dir, "lq.hosts")
	body := "127.0.0.5 multi\n10.0.0.1 multi\n192.0.2.9 multi\n::1 multi\nfd00::9 multi\n10.0.0.2 other\n10.0.0.3 other\n127.0.0.2 m2\n10.0.0.1 m2\n"
	if err := os.WriteFile(hosts, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	up1, up2 := startFakeUpstream(t, 1), startFakeUpstream(t, 1)
	conf := `
no-resolv
no-hosts
localise-queries
listen-address=127.0.0.2,::1
addn-hosts=` + hosts + `
host-record=hr,127.0.0.9
host-record=hr,10.9.9.8
host-record=multi,10.7.7.7
address=/adr.test/127.0.0.7
address=/adr.test/10.0.0.7
cname=cn,multi
server=`
	p := startDNSPair(t, conf+up1.Dnsmasq()+"\n", conf+up2.Dnsmasq()+"\n")
	var queries []string
	for _, q := range []string{"multi. A", "multi. AAAA", "multi. ANY", "other. A", "m2. A", "hr. A", "adr.test. A", "cn. A"} {
		queries = append(queries, q, q+" tcp")
	}
	qq := qs(queries...)
	n := runDiff(t, p, qq)
	two := dnsPair{dnsmasq: strings.Replace(p.dnsmasq, "127.0.0.1:", "127.0.0.2:", 1), frontdesk: strings.Replace(p.frontdesk, "127.0.0.1:", "127.0.0.2:", 1)}
	n += runDiff(t, two, qq)
	six := dnsPair{dnsmasq: strings.Replace(p.dnsmasq, "127.0.0.1:", "[::1]:", 1), frontdesk: strings.Replace(p.frontdesk, "127.0.0.1:", "[::1]:", 1)}
	n += runDiff(t, six, qq)
	t.Logf("%d/%d differential cases identical", n, 3*len(qq))
	// The test means something only if the two addresses answer differently.
	one, err := exchange(p.frontdesk, qq[0])
	if err != nil {
		t.Fatal(err)
	}
	other, err := exchange(two.frontdesk, qq[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Answer) != 1 || len(other.Answer) != 4 {
		t.Errorf("multi A: %d answers at 127.0.0.1 (want 1), %d at 127.0.0.2 (want 4)", len(one.Answer), len(other.Answer))
	}
}

// TestDnsmasqDiffDumpfile covers dumpfile= and dumpmask=: both servers
// get the same queries (answered from host-record, address=, local=, the
// cache, and forwarded; over UDP and one over TCP) and write pcap files;
// the files must have dnsmasq's header (link type 101, raw IP; snap length
// edns-packet-max + 200) and the same set of packets: direction (query
// from a client, reply to it, query to the upstream, reply from it) and
// DNS message (IDs and TTLs aside). Frontdesk's IP and UDP checksums must
// be valid. A second pair with dumpmask=0x5 dumps only client and upstream
// queries.
func TestDnsmasqDiffDumpfile(t *testing.T) {
	for _, mask := range []string{"0xffff", "0x5"} {
		t.Run(mask, func(t *testing.T) {
			var files [2]string
			var confs [2]string
			var ups [2]*fakeUpstream
			for i := range files {
				files[i] = filepath.Join(t.TempDir(), "dump.pcap")
				ups[i] = startFakeUpstream(t, 1)
				confs[i] = "no-resolv\nno-hosts\nserver=" + ups[i].Dnsmasq() + "\nhost-record=hr.test,9.9.9.9\naddress=/adr.test/5.5.5.5\n" +
					"local=/l.test/\ndumpfile=" + files[i] + "\ndumpmask=" + mask + "\n"
			}
			p := startDNSPair(t, confs[0], confs[1])
			qq := qs("hr.test. A", "adr.test. A", "x.l.test. A", "fwd.test. A", "fwd.test. A", "nx.test. A", "hr.test. MX", "tcp.test. A tcp")
			n := runDiff(t, p, qq)
			t.Logf("%d/%d differential cases identical", n, len(qq))
			time.Sleep(200 * time.Millisecond)
			var sets [2][]string
			for i, f := range files {
				server := p.dnsmasq
				if i == 1 {
					server = p.frontdesk
				}
				sets[i] = dumpedPackets(t, f, server, ups[i].Addr, i == 1)
			}
			if strings.Join(sets[0], "\n") != strings.Join(sets[1], "\n") {
				t.Errorf("dumped packets differ:\n--- dnsmasq:\n%s\n--- frontdesk:\n%s", strings.Join(sets[0], "\n"), strings.Join(sets[1], "\n"))
			}
			if len(sets[0]) == 0 {
				t.Error("nothing dumped")
			}
			t.Logf("%d packets dumped by each", len(sets[0]))
		})
	}
}

// dumpedPackets reads a dnsmasq-style pcap file and returns its packets,
// sorted, as "<direction> <message>" with the message's ID zeroed and its
// TTLs set to 0; server and upstream name the directions. check verifies
// the IPv4 and UDP checksums.
func dumpedPackets(t *testing.T, path, server, upstream string, check bool) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 101 ||
		binary.LittleEndian.Uint32(b[16:]) != 1432 {
		t.Fatalf("%s: not dnsmasq's pcap header: %x", path, b[:min(24, len(b))])
	}
	_, sp, _ := strings.Cut(server, ":")
	_, up, _ := strings.Cut(upstream, ":")
	var out []string
	for off := 24; off+16 <= len(b); {
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		pkt := b[off+16 : off+16+incl]
		off += 16 + incl
		if pkt[0]>>4 != 4 || pkt[9] != 17 {
			t.Fatalf("%s: not an IPv4 UDP packet: %x", path, pkt)
		}
		udp := pkt[20:]
		if check {
			if ipSum := onesSum(pkt[:20]); ipSum != 0xffff {
				t.Errorf("bad IPv4 header checksum in %x", pkt)
			}
			pseudo := append(append([]byte{}, pkt[12:20]...), 0, 17, udp[4], udp[5])
			if s := onesSum(append(pseudo, udp...)); s != 0xffff {
				t.Errorf("bad UDP checksum in %x", pkt)
			}
		}
		srcPort := strconv.Itoa(int(binary.BigEndian.Uint16(udp)))
		dstPort := strconv.Itoa(int(binary.BigEndian.Uint16(udp[2:])))
		dir := "?"
		switch {
		case dstPort == sp:
			dir = "client-query"
		case srcPort == sp:
			dir = "client-reply"
		case dstPort == up:
			dir = "upstream-query"
		case srcPort == up:
			dir = "upstream-reply"
		}
		m := new(dns.Msg)
		if err := m.Unpack(udp[8:]); err != nil {
			t.Fatalf("%s: bad DNS message: %v", path, err)
		}
		m.Id = 0
		for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
			for _, rr := range sec {
				rr.Header().Ttl = 0
			}
		}
		out = append(out, dir+" "+strings.Join(strings.Fields(m.String()), " "))
	}
	sort.Strings(out)
	return out
}

// onesSum is the folded one's-complement sum of b (0xffff when a checksum
// inside b is right).
func onesSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// TestDnsmasqDiffInterfaceNameOtherInterface repeats interface-name and
// dynamic-host with a non-loopback interface of this machine that has a
// global IPv4 address and a global and a link-local IPv6 address (skipped
// when there is none): link-local addresses are never answered, and
// dynamic-host takes the network part of a /24 or /64. No traffic goes to
// that interface: only the answers name its addresses.
func TestDnsmasqDiffInterfaceNameOtherInterface(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Skip(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 || i.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := i.Addrs()
		var v4, v6, ll []string
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			switch {
			case ipn.IP.To4() != nil:
				v4 = append(v4, ipn.IP.String())
			case ipn.IP.IsLinkLocalUnicast():
				ll = append(ll, ipn.IP.String())
			default:
				v6 = append(v6, ipn.IP.String())
			}
		}
		if len(v4) == 0 || len(v6) == 0 || len(ll) == 0 {
			continue
		}
		queries := []string{"e.test. A", "e.test. AAAA", "e.test. ANY", "e6.test. AAAA", "e6.test. A", "d.test. A", "d.test. AAAA"}
		for _, a := range append(append(v4, v6...), ll...) {
			r, _ := dns.ReverseAddr(a)
			queries = append(queries, r+" PTR")
		}
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
interface-name=e.test,`+i.Name+`
interface-name=e6.test,`+i.Name+`/6
dynamic-host=d.test,0.0.0.9,::9,`+i.Name+`
`, queries...)
		return
	}
	t.Skip("no interface with global IPv4, global IPv6 and link-local IPv6 addresses")
}
