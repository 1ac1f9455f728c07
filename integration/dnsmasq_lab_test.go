package integration

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// TestDnsmasqLabFullChain is the seed's "Test the Full Chain" on one
// binary: lab.Caddyfile, whose dnsmasq block has the lab's
// address=/myapp.local/127.0.0.1. The client resolves myapp.local through
// Frontdesk's DNS and requests http://myapp.local:<port>/ through its proxy
// with that answer (no Host header trick).
func TestDnsmasqLabFullChain(t *testing.T) {
	requirePeer(t, "python3-flask")
	dir := t.TempDir()
	caddyfile := repoFile(t, "caddyfile/lab.Caddyfile")
	flask, err := harness.StartFlask(dir)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, flask.Process)
	dnsEnv := labDNSEnv(t)
	dnsAddr := "127.0.0.1:" + strings.TrimPrefix(dnsEnv[0], "FRONTDESK_DNS_PORT=")
	_, proxy := startCaddyfile(t, caddyfile, dir, append(dnsEnv, "LAB_API="+flask.Addr)...)

	// dig @frontdesk myapp.local
	r := query(t, dnsAddr, "myapp.local.", dns.TypeA)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
		t.Fatalf("myapp.local: %v", r)
	}

	// curl http://myapp.local:<port>/ resolving through Frontdesk's DNS only.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	_, port, _ := net.SplitHostPort(proxy)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := resolver.LookupIP(ctx, "ip4", host)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort(ips[0].String(), p))
		},
	}}
	resp, err := client.Get("http://myapp.local:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET http://myapp.local:%s/: %s %s", port, resp.Status, body)
	}
}

// TestDnsmasqSiteRecords: `site_records` answers the site names of the same
// Caddyfile (exact names only), with the default 127.0.0.1 or the given
// addresses.
func TestDnsmasqSiteRecords(t *testing.T) {
	const sites = "http://myapp.local:{$FRONTDESK_HTTP_PORT}, http://Other.Test:{$FRONTDESK_HTTP_PORT} {\n\tbind 127.0.0.1\n\trespond ok\n}\n" +
		"http://*.wild.test:{$FRONTDESK_HTTP_PORT} {\n\tbind 127.0.0.1\n\trespond ok\n}\n"
	dnsAddr := startDNS(t, dnsSetup{options: []string{"auto_https off"}, sites: sites,
		lines: []string{"no-resolv", "no-hosts", "site_records 127.0.0.1 ::1"}}).addr
	for name, want := range map[string]string{"myapp.local.": "127.0.0.1", "other.test.": "127.0.0.1"} {
		r := query(t, dnsAddr, name, dns.TypeA)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != want || !r.Authoritative {
			t.Errorf("%s A: %v", name, r)
		}
		r = query(t, dnsAddr, name, dns.TypeAAAA)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.AAAA).AAAA.String() != "::1" {
			t.Errorf("%s AAAA: %v", name, r)
		}
	}
	if r := query(t, dnsAddr, "x.wild.test.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("wildcard site names are not answered: %v", r)
	}
}

// TestLabPart3PointsAtItself is the lab's Part 3 as the lab writes it: the
// system's resolver (here the resolv-file) points at 127.0.0.1, where the
// lab's DNS listens on port 53. Names the lab does not hold must not loop
// back into Frontdesk: they are refused at once, the log says once why, and
// http://myapp.local/ resolves and answers through the lab.
func TestLabPart3PointsAtItself(t *testing.T) {
	requirePeer(t, "python3-flask")
	if os.Geteuid() != 0 {
		t.Skip("the lab's port 53 needs root")
	}
	for _, network := range []string{"udp", "tcp"} {
		if !portFree(network, "127.0.0.1:53") {
			t.Skipf("127.0.0.1:53/%s is taken by another server on this machine", network)
		}
	}
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("# Part 3: the machine asks dnsmasq\nnameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	flask, err := harness.StartFlask(dir)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, flask.Process)
	fd, proxy := startCaddyfile(t, repoFile(t, "caddyfile/lab.Caddyfile"), dir,
		"FRONTDESK_DNS_PORT=53", "FRONTDESK_DNS_RESOLV="+resolv, "LAB_API="+flask.Addr)
	const dnsAddr = "127.0.0.1:53"

	if r := query(t, dnsAddr, "myapp.local.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
		t.Fatalf("myapp.local: %v", r)
	}
	start := time.Now()
	r := query(t, dnsAddr, "www.example.org.", dns.TypeA)
	if took := time.Since(start); r.Rcode != dns.RcodeRefused || took > time.Second {
		t.Errorf("www.example.org: %s after %v, want REFUSED at once (the only nameserver is the lab itself)", dns.RcodeToString[r.Rcode], took)
	}
	if n := strings.Count(fd.Log(), selfLoopLog); n != 1 {
		t.Errorf("%d log lines about the self nameserver, want 1:\n%s", n, lastLines(fd.Log(), 20))
	}
	if strings.Contains(fd.Log(), "maximum number of concurrent DNS queries") {
		t.Errorf("queries looped:\n%s", lastLines(fd.Log(), 20))
	}
	// curl http://myapp.local:<port>/ with the system resolver pointing at
	// the lab.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	ips, err := resolver.LookupIP(context.Background(), "ip4", "myapp.local")
	if err != nil || len(ips) != 1 {
		t.Fatalf("resolving myapp.local through the lab: %v %v", ips, err)
	}
	_, port, _ := net.SplitHostPort(proxy)
	req, err := http.NewRequest("GET", "http://"+net.JoinHostPort(ips[0].String(), port)+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "myapp.local"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 || body != `{"status":"healthy"}`+"\n" {
		t.Errorf("GET http://myapp.local:%s/healthz: %d %q", port, resp.StatusCode, body)
	}
}

// portFree reports whether addr can be bound on network right now.
func portFree(network, addr string) bool {
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}
