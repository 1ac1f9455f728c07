package integration

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// Where the dnsmasq app listens: interface=, port=0 (no DNS at all), and
// answers that depend on the address a query came to (localise-queries).

// TestDnsmasqPortZero: port=0 disables DNS for both: dnsmasq says so and
// binds no socket; Frontdesk loads the configuration, binds no DNS socket
// and its admin API still answers (records can be added; nothing serves
// them until a configuration with a port is loaded).
func TestDnsmasqPortZero(t *testing.T) {
	requirePeer(t, "dnsmasq")
	dir := t.TempDir()
	conf := filepath.Join(dir, "p.conf")
	writeFile(t, conf, "port=0\nno-resolv\nno-hosts\naddress=/x.test/1.2.3.4\n")
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
	writeFile(t, hosts, body)
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

// TestDnsmasqInterfaceLo: interface=lo listens on the loopback addresses,
// IPv4 and IPv6, over UDP and TCP.
func TestDnsmasqInterfaceLo(t *testing.T) {
	addr := startDNSLines(t, "interface=lo", "no-resolv", "no-hosts", "address=/lo.test/10.1.1.1").addr
	_, port, _ := net.SplitHostPort(addr)
	targets := []string{addr}
	if c, err := net.ListenPacket("udp", "[::1]:0"); err == nil {
		c.Close()
		targets = append(targets, "[::1]:"+port)
	}
	for _, a := range targets {
		for _, tcp := range []bool{false, true} {
			r, err := exchange(a, dnsQuery{name: "lo.test.", qtype: dns.TypeA, tcp: tcp})
			if err != nil || len(r.Answer) != 1 {
				t.Errorf("%s tcp=%v: %v %v", a, tcp, r, err)
			}
		}
	}
}
