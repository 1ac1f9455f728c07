package integration

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDnsmasqReload reloads the configuration through POST /load while
// clients query without pause: no query goes unanswered, the new records
// take effect, and the cache (a forwarded answer) survives the reloads.
func TestDnsmasqReload(t *testing.T) {
	up := startFakeUpstream(t, 1)
	lines := func(ip string) []string {
		return []string{"no-resolv", "no-hosts", "server=" + up.Dnsmasq(), "address=/myapp.local/" + ip}
	}
	srv := startDNSLines(t, lines("10.0.0.100")...)
	addr := srv.addr

	if r := query(t, addr, "cached.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("forwarded answer: %v", r)
	}
	before := up.queries.Load()

	var stop atomic.Bool
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Timeout: 2 * time.Second}
			for !stop.Load() {
				m := new(dns.Msg)
				m.SetQuestion("myapp.local.", dns.TypeA)
				r, _, err := c.Exchange(m, addr)
				sent.Add(1)
				if err != nil || len(r.Answer) != 1 {
					failed.Add(1)
				}
			}
		}()
	}
	for i := 0; i < 6; i++ {
		ip := "10.0.0." + strconv.Itoa(101+i)
		srv.admin.reload(t, srv.caddyfile(lines(ip)...))
		time.Sleep(150 * time.Millisecond)
		r := query(t, addr, "myapp.local.", dns.TypeA)
		if len(r.Answer) != 1 || !strings.HasSuffix(r.Answer[0].String(), ip) {
			t.Fatalf("after reload %d: want %s, got %v", i, ip, r)
		}
	}
	stop.Store(true)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d queries failed during reloads", failed.Load(), sent.Load())
	}
	t.Logf("%d queries during 6 reloads, none failed", sent.Load())
	if r := query(t, addr, "cached.test.", dns.TypeA); len(r.Answer) != 1 || up.queries.Load() != before {
		t.Fatalf("cache did not survive the reloads: %v (upstream queries %d -> %d)", r, before, up.queries.Load())
	}
}

// TestDnsmasqReloadFailure: a new config that cannot bind one of its
// addresses is rejected, and the running config keeps answering on the
// socket the new one had already taken over.
func TestDnsmasqReloadFailure(t *testing.T) {
	lines := func(ip, listen string) []string {
		return []string{"listen-address=" + listen, "no-resolv", "no-hosts", "address=/myapp.local/" + ip}
	}
	srv := startDNSLines(t, lines("10.0.0.1", "127.0.0.1")...)
	// 203.0.113.77 (TEST-NET-3) is not an address of this machine.
	if code, _ := srv.admin.load(t, srv.caddyfile(lines("10.0.0.2", "127.0.0.1,203.0.113.77")...)); code == 200 {
		t.Fatal("a config that cannot bind 203.0.113.77 was accepted")
	}
	r := query(t, srv.addr, "myapp.local.", dns.TypeA)
	if len(r.Answer) != 1 || !strings.HasSuffix(r.Answer[0].String(), "10.0.0.1") {
		t.Fatalf("the running config should still answer 10.0.0.1: %v", r)
	}
}
