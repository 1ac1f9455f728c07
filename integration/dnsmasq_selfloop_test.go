package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
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
	dmPort, err := harness.FreeUDPTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	dm, err := harness.StartDnsmasq(filepath.Join(t.TempDir(), "dnsmasq"), strings.Join(lines(dmPort), "\n")+"\n", dmPort)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, dm.Process)
	if n := strings.Count(dm.Log(), "ignoring nameserver 127.0.0.1 - local interface"); n != 2 {
		t.Errorf("dnsmasq logged %d self nameservers, want 2:\n%s", n, dm.Log())
	}

	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	caddyfile := func(extra ...string) string {
		return fmt.Sprintf("{\n\tadmin {$FRONTDESK_ADMIN}\n\tdnsmasq {\n\t\tport=%d\n\t\tlisten-address=127.0.0.1\n\t\t%s\n\t}\n}\n",
			port, strings.Join(lines(port, extra...), "\n\t\t"))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile()), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	fd, err := harness.StartFrontdesk(frontdeskBin, dir, "frontdesk-dns", path, nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, fd.Process)
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
	req, _ := http.NewRequest("POST", "http://"+fd.Admin+"/load", strings.NewReader(caddyfile("address=/reloaded.test/10.9.9.9")))
	req.Header.Set("Content-Type", "text/caddyfile")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reload: %s", resp.Status)
	}
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
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("# the lab points the system at itself\nnameserver "+self+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "Caddyfile")
	body := fmt.Sprintf("{\n\tadmin {$FRONTDESK_ADMIN}\n\tdnsmasq {\n\t\tport=53\n\t\tlisten-address=%s\n\t\tno-hosts\n\t\tresolv-file=%s\n\t\taddress=/myapp.local/127.0.0.1\n\t}\n}\n", self, resolv)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := self + ":53"
	fd, err := harness.StartFrontdesk(frontdeskBin, dir, "frontdesk-dns", path, nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, fd.Process)
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
