package integration

import (
	"os"
	"os/exec"
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

// bareNginxSite is `header_policy nginx` with a reverse_proxy that has
// neither `header_up -Via` nor `transport http { compression off }`.
const bareNginxSite = `{
	admin {$FRONTDESK_ADMIN:localhost:2019}
	auto_https off
}

http://myapp.local:{$FRONTDESK_HTTP_PORT:8000} {
	bind 127.0.0.1
	header_policy nginx
	reverse_proxy {$LAB_API:127.0.0.1:8080}
}
`

// proxyGapWarning is the start of the warning header_policy nginx gives
// about a reverse_proxy that lacks the two lines.
const proxyGapWarning = "header_policy nginx ("

// TestNginxPresetWarnsAboutProxyGaps: reverse_proxy adds Via and Go's
// transport adds Accept-Encoding after header_policy has run, so a bare
// reverse_proxy next to `header_policy nginx` sends exactly nginx's header
// set plus those two (checked against real nginx), and validate says so
// with the file, the lines and what to add; the repository's Caddyfiles,
// which have the lines, get no such warning.
func TestNginxPresetWarnsAboutProxyGaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bare.Caddyfile")
	if err := os.WriteFile(path, []byte(bareNginxSite), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(frontdeskBin, "validate", "--config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("validate: %v\n%s", err, logMessages(out))
	}
	msg := logMessages(out)
	for _, want := range []string{
		proxyGapWarning + path + ":8): the reverse_proxy at " + path + ":9",
		"Via: 1.1 Caddy", "Accept-Encoding: gzip",
		"add `header_up -Via` to its block and `transport http { compression off }` to its block",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("validate output lacks %q:\n%s", want, msg)
		}
	}

	// What the warning is about, against real nginx.
	l := startLab(t, repoFile(t, "caddyfile/lab.Caddyfile"))
	nginx := startSeedNginx(t, l.flask.Addr)
	_, bare := startFrontdesk(t, path, t.TempDir(), l.flask.Addr)
	want := backendHeaders(t, do(t, "GET", "http://"+nginx+"/api/headers", "").body)
	delete(want, "Connection") // nginx's HTTP/1.0 upstream requests
	want["Via"] = "1.1 Caddy"
	want["Accept-Encoding"] = "gzip"
	assertHeaders(t, "bare reverse_proxy vs nginx + Via + Accept-Encoding",
		backendHeaders(t, do(t, "GET", "http://"+bare+"/api/headers", "").body), want)

	files, err := filepath.Glob(repoFile(t, "caddyfile") + "/*.Caddyfile")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Caddyfiles in caddyfile/: %v", err)
	}
	for _, f := range files {
		out, err := exec.Command(frontdeskBin, "adapt", "--config", f).CombinedOutput()
		if err != nil {
			t.Errorf("adapt %s: %v\n%s", f, err, lastLines(string(out), 5))
			continue
		}
		if strings.Contains(string(out), proxyGapWarning) {
			t.Errorf("%s: header_policy nginx warns:\n%s", filepath.Base(f), lastLines(string(out), 5))
		}
	}
}
