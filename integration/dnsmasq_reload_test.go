package integration

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
	"github.com/miekg/dns"
)

// TestDnsmasqReload reloads the configuration through POST /load while
// clients query without pause: no query goes unanswered, the new records
// take effect, and the cache (a forwarded answer) survives the reloads.
func TestDnsmasqReload(t *testing.T) {
	up := startFakeUpstream(t, 1)
	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	caddyfile := func(ip string) string {
		return fmt.Sprintf("{\n\tadmin {$FRONTDESK_ADMIN}\n\tdnsmasq {\n\t\tport=%d\n\t\tno-resolv\n\t\tno-hosts\n\t\tserver=%s\n\t\taddress=/myapp.local/%s\n\t}\n}\n", port, up.Dnsmasq(), ip)
	}
	addr, admin := startDNSFrontdeskFile(t, caddyfile("10.0.0.100"), port)

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
		req, _ := http.NewRequest("POST", "http://"+admin+"/load", strings.NewReader(caddyfile(ip)))
		req.Header.Set("Content-Type", "text/caddyfile")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST /load: %s", resp.Status)
		}
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

// startDNSFrontdeskFile runs Frontdesk with a whole Caddyfile whose DNS
// server listens on 127.0.0.1:port.
func startDNSFrontdeskFile(t *testing.T, body string, port int) (dnsAddr, admin string) {
	t.Helper()
	dir := t.TempDir()
	caddyfile := dir + "/Caddyfile"
	if err := writeFile(caddyfile, body); err != nil {
		t.Fatal(err)
	}
	dnsAddr = "127.0.0.1:" + strconv.Itoa(port)
	fd, err := harness.StartFrontdesk(frontdeskBin, dir, "frontdesk-dns", caddyfile, nil, dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, fd.Process)
	return dnsAddr, fd.Admin
}

// TestDnsmasqReloadFailure: a new config that cannot bind one of its
// addresses is rejected, and the running config keeps answering on the
// socket the new one had already taken over.
func TestDnsmasqReloadFailure(t *testing.T) {
	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	caddyfile := func(ip, listen string) string {
		return fmt.Sprintf("{\n\tadmin {$FRONTDESK_ADMIN}\n\tdnsmasq {\n\t\tport=%d\n\t\tlisten-address=%s\n\t\tno-resolv\n\t\tno-hosts\n\t\taddress=/myapp.local/%s\n\t}\n}\n", port, listen, ip)
	}
	addr, admin := startDNSFrontdeskFile(t, caddyfile("10.0.0.1", "127.0.0.1"), port)
	// 203.0.113.77 (TEST-NET-3) is not an address of this machine.
	req, _ := http.NewRequest("POST", "http://"+admin+"/load", strings.NewReader(caddyfile("10.0.0.2", "127.0.0.1,203.0.113.77")))
	req.Header.Set("Content-Type", "text/caddyfile")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatal("a config that cannot bind 203.0.113.77 was accepted")
	}
	r := query(t, addr, "myapp.local.", dns.TypeA)
	if len(r.Answer) != 1 || !strings.HasSuffix(r.Answer[0].String(), "10.0.0.1") {
		t.Fatalf("the running config should still answer 10.0.0.1: %v", r)
	}
}
