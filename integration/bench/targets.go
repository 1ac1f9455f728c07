package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// Target names, in the order they are measured each round.
const (
	targetDirect       = "direct"
	targetHeaderPolicy = "frontdesk header_policy"
	targetReverseProxy = "frontdesk reverse_proxy"
	targetNginx        = "nginx"
)

// baseline is the target every other one is compared with.
const baseline = targetReverseProxy

// nginxWorkers is the worker_processes of the nginx that runs, read back
// from the nginx.conf harness.StartNginx writes (it writes 1).
var nginxWorkers = "1"

var reWorkers = regexp.MustCompile(`(?m)^\s*worker_processes\s+([^;\s]+)\s*;`)

// target is one thing wrk is pointed at.
type target struct {
	Name string
	URL  string
	// PoweredBy says whether the backend's X-Powered-By must reach the
	// client through this target (header_policy nginx hides it).
	PoweredBy bool
}

// loopback returns a free 127.0.0.1 address.
func loopback() (string, error) {
	port, err := harness.FreePort()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}

// startBackend re-executes this program with -serve-backend.
func startBackend(ps *procs, dir string) (string, error) {
	addr, err := loopback()
	if err != nil {
		return "", err
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	p, err := harness.Start(dir, "backend", nil, dir, self, "-serve-backend", addr)
	if err != nil {
		return "", err
	}
	ps.add(p)
	if err := p.WaitHTTP("http://"+addr+"/", http.StatusOK, 10*time.Second); err != nil {
		return "", err
	}
	return addr, nil
}

// frontdeskCaddyfile is the Caddyfile of both Frontdesk targets; the only
// difference between them is the header_policy line. No access log is
// configured, and everything listens on 127.0.0.1 only.
const frontdeskCaddyfile = `{
	admin {$FRONTDESK_ADMIN}
	auto_https off
	persist_config off
}

http://127.0.0.1:{$BENCH_PORT} {
	bind 127.0.0.1
%s	reverse_proxy {$BENCH_BACKEND}%s
}
`

// startFrontdesk runs the frontdesk binary in front of backend, with
// header_policy nginx when policy is set. idle > 0 sets reverse_proxy's
// keepalive_idle_conns_per_host (Caddy's default is 32).
func startFrontdesk(ps *procs, bin, dir, name, backend string, policy bool, idle int) (string, error) {
	addr, err := loopback()
	if err != nil {
		return "", err
	}
	_, port, _ := strings.Cut(addr, ":")
	line, transport := "", ""
	if policy {
		line = "\theader_policy nginx\n"
	}
	if idle > 0 {
		transport = fmt.Sprintf(" {\n\t\ttransport http {\n\t\t\tkeepalive_idle_conns_per_host %d\n\t\t}\n\t}", idle)
	}
	conf := filepath.Join(dir, harness.FileName(name)+".Caddyfile")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(frontdeskCaddyfile, line, transport)), 0o644); err != nil {
		return "", err
	}
	// The harness points XDG_DATA_HOME and XDG_CONFIG_HOME into dir.
	env := []string{"BENCH_PORT=" + port, "BENCH_BACKEND=" + backend}
	fd, err := harness.StartFrontdesk(bin, dir, name, conf, env, addr)
	if fd != nil {
		ps.add(fd.Process)
	}
	if err != nil {
		return "", err
	}
	return addr, nil
}

// nginxServer is the seed lab's server block with upstream keepalive added.
const nginxServer = `
    upstream bench_backend {
        server %s;
        keepalive 64;
    }
    server {
        listen %s;
        server_name _;
        location / {
            proxy_pass http://bench_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
    }
`

// startNginx runs nginx in front of backend.
func startNginx(ps *procs, dir, backend string) (string, error) {
	addr, err := loopback()
	if err != nil {
		return "", err
	}
	prefix := filepath.Join(dir, "nginx")
	n, err := harness.StartNginx(prefix, addr, fmt.Sprintf(nginxServer, backend, addr))
	if n != nil {
		ps.add(n.Process)
	}
	if err != nil {
		return "", err
	}
	if conf, err := os.ReadFile(filepath.Join(prefix, "nginx.conf")); err == nil {
		if m := reWorkers.FindSubmatch(conf); m != nil {
			nginxWorkers = string(m[1])
		}
	}
	return addr, nil
}

// check makes one request through t and verifies it carries the backend's
// 1 KiB JSON body, so that wrk measures the real thing and not an error page.
func check(t target) error {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(t.URL)
	if err != nil {
		return fmt.Errorf("%s: %v", t.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading body: %v", t.Name, err)
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s: status %s, want 200", t.Name, resp.Status)
	case string(b) != string(body):
		return fmt.Errorf("%s: body is %d bytes and not the backend's %d-byte JSON", t.Name, len(b), len(body))
	case resp.Header.Get("Content-Type") != "application/json":
		return fmt.Errorf("%s: Content-Type %q, want application/json", t.Name, resp.Header.Get("Content-Type"))
	case t.PoweredBy && resp.Header.Get("X-Powered-By") != poweredBy:
		return fmt.Errorf("%s: the backend's X-Powered-By did not come through", t.Name)
	case !t.PoweredBy && resp.Header.Get("X-Powered-By") != "":
		return fmt.Errorf("%s: X-Powered-By %q reached the client; is header_policy in the chain?", t.Name, resp.Header.Get("X-Powered-By"))
	}
	return nil
}

// startTargets builds frontdesk, starts the backend and the three proxies in
// front of it, and checks that each target serves the backend's body. It
// returns the frontdesk binary and the targets in measuring order.
func startTargets(ctx context.Context, c config, ps *procs, dir string) (string, []target, error) {
	step("building ./cmd/frontdesk into %s", dir)
	bin, err := harness.BuildFrontdesk(dir)
	if err != nil {
		return "", nil, err
	}
	if ctx.Err() != nil {
		return "", nil, ctx.Err()
	}
	backend, err := startBackend(ps, dir)
	if err != nil {
		return "", nil, fmt.Errorf("backend: %w", err)
	}
	step("backend on %s", backend)
	hp, err := startFrontdesk(ps, bin, dir, targetHeaderPolicy, backend, true, c.idle)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", targetHeaderPolicy, err)
	}
	step("%s on %s", targetHeaderPolicy, hp)
	rp, err := startFrontdesk(ps, bin, dir, targetReverseProxy, backend, false, c.idle)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", targetReverseProxy, err)
	}
	step("%s on %s", targetReverseProxy, rp)
	ng, err := startNginx(ps, dir, backend)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", targetNginx, err)
	}
	step("%s on %s (worker_processes %s)", targetNginx, ng, nginxWorkers)

	targets := []target{
		{Name: targetDirect, URL: "http://" + backend + "/", PoweredBy: true},
		{Name: targetHeaderPolicy, URL: "http://" + hp + "/", PoweredBy: false},
		{Name: targetReverseProxy, URL: "http://" + rp + "/", PoweredBy: true},
		{Name: targetNginx, URL: "http://" + ng + "/", PoweredBy: true},
	}
	for _, t := range targets {
		if err := check(t); err != nil {
			return "", nil, err
		}
	}
	return bin, targets, nil
}
