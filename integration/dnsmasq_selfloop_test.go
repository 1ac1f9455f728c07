package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// selfLoopLog is what Frontdesk logs for a nameserver that is itself.
const selfLoopLog = "ignoring nameserver: it is one of this server's own listening addresses"

// TestDnsmasqNeverForwardsToSelf: a server= line naming Frontdesk's own
// listening address and port (plain and for a domain) is dropped with one
// log line each, at start and after a reload, as dnsmasq drops it
// ("ignoring nameserver ... - local interface"); the other servers answer
// and nothing loops (issue 13: one query became ~300 forwards to itself).
func TestDnsmasqNeverForwardsToSelf(t *testing.T) {
	requirePeer(t, "dnsmasq")
	up := startFakeUpstream(t, 1)
	lines := func(port int, extra ...string) []string {
		self := "127.0.0.1#" + strconv.Itoa(port)
		return append([]string{"no-resolv", "no-hosts", "server=" + self, "server=/corp.example/" + self, "server=" + up.Dnsmasq()}, extra...)
	}

	// The oracle: dnsmasq with the same lines on its own port.
	dmPort := freeDNSPort(t)
	dm := startDnsmasq(t, strings.Join(lines(dmPort), "\n")+"\n", dmPort)
	if n := strings.Count(dm.Log(), "ignoring nameserver 127.0.0.1 - local interface"); n != 2 {
		t.Errorf("dnsmasq logged %d self nameservers, want 2:\n%s", n, dm.Log())
	}

	port := freeDNSPort(t)
	ownLines := func(extra ...string) []string {
		return append([]string{"listen-address=127.0.0.1"}, lines(port, extra...)...)
	}
	srv := startDNS(t, dnsSetup{port: port, lines: ownLines()})
	fd, addr := srv.fd, srv.addr
	if n := strings.Count(fd.Log(), selfLoopLog); n != 2 {
		t.Errorf("%d log lines about the self nameserver at start, want 2 (server= and server=/corp.example/):\n%s", n, lastLines(fd.Log(), 20))
	}

	ask := func(name string) {
		t.Helper()
		q := dnsQuery{name: name, qtype: dns.TypeA}
		want, err := exchange(dm.Addr, q)
		if err != nil {
			t.Fatalf("dnsmasq: %s: %v", name, err)
		}
		before := up.queries.Load()
		got, err := exchange(addr, q)
		if err != nil {
			t.Fatalf("frontdesk: %s: %v", name, err)
		}
		if d := diffCase(want, got); d != "" {
			t.Errorf("%s differs:\n%s", name, d)
		}
		if n := up.queries.Load() - before; n != 1 {
			t.Errorf("%s: the upstream got %d queries, want 1", name, n)
		}
	}
	ask("www.example.org.")
	ask("intranet.corp.example.")

	// After a reload the same lines are dropped again.
	srv.admin.reload(t, srv.caddyfile(ownLines("address=/reloaded.test/10.9.9.9")...))
	if r := query(t, addr, "reloaded.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("the reloaded config does not answer: %v", r)
	}
	if n := strings.Count(fd.Log(), selfLoopLog); n != 4 {
		t.Errorf("%d log lines about the self nameserver after a reload, want 4", n)
	}
	ask("after-reload.example.org.")
	ask("wiki.corp.example.")
	if strings.Contains(fd.Log(), "maximum number of concurrent DNS queries") {
		t.Errorf("queries looped:\n%s", lastLines(fd.Log(), 20))
	}
}

// TestDnsmasqResolvFileSelf: the lab's Part 3, a resolv-file whose only
// nameserver is Frontdesk's own address while it listens on port 53: the
// nameserver is dropped (a resolv.conf nameserver is always port 53), so a
// name that is not local gets REFUSED at once instead of looping.
func TestDnsmasqResolvFileSelf(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("listening on port 53 needs root")
	}
	const self = "127.0.0.77" // a loopback address of its own, so that port 53 is free
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	writeFile(t, resolv, "# the lab points the system at itself\nnameserver "+self+"\n")
	srv := startDNS(t, dnsSetup{port: 53, host: self, lines: []string{
		"listen-address=" + self, "no-hosts", "resolv-file=" + resolv, "address=/myapp.local/127.0.0.1"}})
	fd, addr := srv.fd, srv.addr
	if n := strings.Count(fd.Log(), selfLoopLog); n != 1 {
		t.Errorf("%d log lines about the self nameserver, want 1:\n%s", n, lastLines(fd.Log(), 20))
	}
	if r := query(t, addr, "myapp.local.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("myapp.local: %v", r)
	}
	start := time.Now()
	r := query(t, addr, "www.example.org.", dns.TypeA)
	if r.Rcode != dns.RcodeRefused {
		t.Errorf("www.example.org: rcode %s, want REFUSED (no server left), after %v", dns.RcodeToString[r.Rcode], time.Since(start))
	}
	if strings.Contains(fd.Log(), "maximum number of concurrent DNS queries") {
		t.Errorf("queries looped:\n%s", lastLines(fd.Log(), 20))
	}
}
