package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// seedServerBlock is the seed lab's nginx server block (Part 2, Step 1) with
// the listen address, upstream and log paths filled in.
const seedServerBlock = `
server {
    listen {{LISTEN}};
    server_name myapp.local;

    access_log {{DIR}}/myapi.access.log;
    error_log  {{DIR}}/myapi.error.log;

    location / {
        proxy_pass http://{{UPSTREAM}};

        # Forward the original client information to the backend
        proxy_set_header Host              $host;
        proxy_set_header X-Real-IP         $remote_addr;
        proxy_set_header X-Forwarded-For   $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}
`

// startSeedNginx runs real nginx with the seed's server block in front of
// upstream and returns its address.
func startSeedNginx(t *testing.T, upstream string) string {
	t.Helper()
	requirePeer(t, "nginx")
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	dir := t.TempDir()
	block := strings.NewReplacer("{{LISTEN}}", addr, "{{DIR}}", dir, "{{UPSTREAM}}", upstream).Replace(seedServerBlock)
	ng, err := harness.StartNginx(dir, addr, block)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, ng.Process)
	return addr
}

// TestHeadersMatchNginx is the differential test: the headers the Flask app
// receives through real nginx (seed config) and through frontdesk
// (header_policy nginx) have the same names and values, except the hop-by-hop
// "Connection: close" of nginx's HTTP/1.0 upstream requests.
func TestHeadersMatchNginx(t *testing.T) {
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	nginx := startSeedNginx(t, l.flask.Addr)

	// The same lab behind a load balancer on 127.0.0.1, which frontdesk trusts.
	trustedCaddyfile := filepath.Join(t.TempDir(), "trusted.Caddyfile")
	lab, err := os.ReadFile(repoFile(t, "caddyfile/lab.Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	trusted := strings.Replace(string(lab), "header_policy nginx\n", "header_policy nginx {\n\t\ttrusted_proxies 127.0.0.1/32\n\t}\n", 1)
	if trusted == string(lab) {
		t.Fatal("lab.Caddyfile has no `header_policy nginx` line to extend")
	}
	if err := os.WriteFile(trustedCaddyfile, []byte(trusted), 0o644); err != nil {
		t.Fatal(err)
	}
	_, trustedProxy := startFrontdesk(t, trustedCaddyfile, t.TempDir(), l.flask.Addr)

	cases := []struct {
		name     string
		frontend string // frontdesk address to compare with nginx
		extra    []string
		// wantXFF is frontdesk's X-Forwarded-For when it deliberately differs
		// from nginx's; empty means "the same as nginx".
		wantXFF string
	}{
		{name: "plain request", frontend: l.proxy},
		{name: "with body headers", frontend: l.proxy, extra: []string{"Content-Type: application/json", "Accept-Language: en"}},
		{name: "host with port and capitals", frontend: l.proxy, extra: []string{"Host: MyApp.Local:8443"}},
		{name: "from a trusted proxy", frontend: trustedProxy, extra: []string{"X-Forwarded-For: 203.0.113.7"}},
		{name: "from a trusted proxy, two hops", frontend: trustedProxy, extra: []string{"X-Forwarded-For: 203.0.113.7, 198.51.100.2"}},
		{
			// nginx overwrites the forged X-Real-IP but appends to the forged
			// X-Forwarded-For chain; frontdesk replaces the chain with the
			// client address. The one deliberate difference.
			name: "spoofed by an untrusted client", frontend: l.proxy,
			extra:   []string{"X-Real-IP: 6.6.6.6", "X-Forwarded-For: 1.2.3.4"},
			wantXFF: "127.0.0.1",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			viaNginx := do(t, "GET", "http://"+nginx+"/api/headers", "", c.extra...)
			viaFrontdesk := do(t, "GET", "http://"+c.frontend+"/api/headers", "", c.extra...)
			if viaNginx.status != 200 || viaFrontdesk.status != 200 {
				t.Fatalf("status: nginx %d, frontdesk %d", viaNginx.status, viaFrontdesk.status)
			}
			want := backendHeaders(t, viaNginx.body)
			if want["Connection"] != "close" {
				t.Errorf("nginx sent Connection %q; the seed's HTTP/1.0 upstream sends close", want["Connection"])
			}
			delete(want, "Connection")
			for _, h := range []string{"Host", "X-Real-Ip", "X-Forwarded-For", "X-Forwarded-Proto"} {
				if want[h] == "" {
					t.Fatalf("nginx did not send %s: %v", h, want)
				}
			}
			if c.wantXFF != "" {
				if want["X-Forwarded-For"] == c.wantXFF {
					t.Fatalf("nginx's X-Forwarded-For %q was expected to differ", want["X-Forwarded-For"])
				}
				want["X-Forwarded-For"] = c.wantXFF
			}
			assertHeaders(t, "frontdesk vs nginx", backendHeaders(t, viaFrontdesk.body), want)
		})
	}
}
