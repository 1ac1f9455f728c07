package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// Target names, in the order they are measured each round.
const (
	targetDirect       = "direct"
	targetHealthgate   = "frontdesk healthgate"
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
	// Dashboard is the admin API of a Frontdesk whose dashboard is
	// watched through every run (dashboard.go); "" for none.
	Dashboard string
}

// loopback returns a free 127.0.0.1 address.
func loopback() (string, error) {
	port, err := harness.FreePort()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}

// startBackend re-executes this program with -serve-backend on a free port.
func startBackend(ps *procs, dir string) (string, error) {
	addr, err := loopback()
	if err != nil {
		return "", err
	}
	if _, err := startBackendOn(ps, dir, "backend", addr, ""); err != nil {
		return "", err
	}
	return addr, nil
}

// startBackendOn re-executes this program with -serve-backend addr (and
// -backend-tag tag when tag is set) and waits until it answers.
func startBackendOn(ps *procs, dir, name, addr, tag string) (*harness.Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	argv := []string{self, "-serve-backend", addr}
	if tag != "" {
		argv = append(argv, "-backend-tag", tag)
	}
	p, err := harness.Start(dir, name, nil, dir, argv...)
	if err != nil {
		return nil, err
	}
	ps.add(p)
	if err := p.WaitHTTP("http://"+addr+"/healthz", http.StatusOK, 10*time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// frontdeskSiteCaddyfile is the Caddyfile of every Frontdesk target: %s is
// the site's directives. No access log is configured, and everything
// listens on 127.0.0.1 only.
const frontdeskSiteCaddyfile = `{
	admin {$FRONTDESK_ADMIN}
	auto_https off
	persist_config off
}

http://127.0.0.1:{$BENCH_PORT} {
	bind 127.0.0.1
%s}
`

// proxySite is the directives of a throughput or failover target: the
// header_policy nginx line when policy is set, then reverse_proxy with
// proxy as its arguments and block.
func proxySite(policy bool, proxy string) string {
	line := ""
	if policy {
		line = "\theader_policy nginx\n"
	}
	return line + "\treverse_proxy" + proxy + "\n"
}

// transportBlock is reverse_proxy's transport for idle > 0 (Caddy's default
// keepalive_idle_conns_per_host is 32), indented for the reverse_proxy block.
func transportBlock(idle int) string {
	if idle <= 0 {
		return ""
	}
	return fmt.Sprintf("\t\ttransport http {\n\t\t\tkeepalive_idle_conns_per_host %d\n\t\t}\n", idle)
}

// throughputProxy returns reverse_proxy's arguments and block for a
// throughput target: a static upstream, or with gate a healthgate pool of
// that one upstream, checked every second and serving after one pass.
func throughputProxy(backend string, gate bool, idle int) string {
	if !gate {
		if idle <= 0 {
			return " {$BENCH_BACKEND}"
		}
		return " {$BENCH_BACKEND} {\n" + transportBlock(idle) + "\t}"
	}
	return " {\n\t\tdynamic healthgate bench {\n\t\t\tto {$BENCH_BACKEND}\n\t\t\tinterval 1s\n\t\t\trise 1\n\t\t}\n" +
		transportBlock(idle) + "\t}"
}

// startFrontdeskSite runs frontdesk with one site made of directives; env
// may set BENCH_BACKEND and other placeholders they use. The harness points
// XDG_DATA_HOME and XDG_CONFIG_HOME into dir. It returns the process
// whenever it started, also with an error.
func startFrontdeskSite(ps *procs, bin, dir, name, directives string, env []string) (*harness.Frontdesk, string, error) {
	addr, err := loopback()
	if err != nil {
		return nil, "", err
	}
	_, port, _ := strings.Cut(addr, ":")
	conf := filepath.Join(dir, harness.FileName(name)+".Caddyfile")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(frontdeskSiteCaddyfile, directives)), 0o644); err != nil {
		return nil, "", err
	}
	fd, err := harness.StartFrontdesk(bin, dir, name, conf, append([]string{"BENCH_PORT=" + port}, env...), addr)
	if fd != nil {
		ps.add(fd.Process)
	}
	return fd, addr, err
}

// startFrontdeskTarget runs one of the throughput targets in front of
// backend, with header_policy nginx when policy is set and a healthgate
// upstream when gate is set, and waits until it serves: healthgate gates its
// upstream until the first check has passed.
func startFrontdeskTarget(ps *procs, bin, dir, name, backend string, policy, gate bool, idle int) (*harness.Frontdesk, string, error) {
	fd, addr, err := startFrontdeskSite(ps, bin, dir, name, proxySite(policy, throughputProxy(backend, gate, idle)), []string{"BENCH_BACKEND=" + backend})
	if err != nil {
		return nil, "", err
	}
	if err := waitServing("http://"+addr+"/", 15*time.Second); err != nil {
		return nil, "", err
	}
	return fd, addr, nil
}

// waitServing GETs url until it answers 200.
func waitServing(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within %s (last: %s)", url, timeout, last)
}

// nginxProxy is the http{} content of every nginx the benchmark runs: an
// upstream with keepalive 64 and a server on listen whose location /
// proxies to it over keep-alive HTTP/1.1.
type nginxProxy struct {
	upstream string   // the upstream's name
	servers  []string // its server lines, without "server" and ";"
	listen   string
	before   []string // http{} lines before the upstream
	route    []string // location lines right after proxy_pass
	after    []string // location lines after the keep-alive ones
}

// nginxSeedHeaders are the seed lab's four proxy_set_header lines.
var nginxSeedHeaders = []string{
	"proxy_set_header Host $host;",
	"proxy_set_header X-Real-IP $remote_addr;",
	"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
	"proxy_set_header X-Forwarded-Proto $scheme;",
}

func (n nginxProxy) String() string {
	var b strings.Builder
	b.WriteString("\n")
	for _, l := range n.before {
		b.WriteString("    " + l + "\n")
	}
	fmt.Fprintf(&b, "    upstream %s {\n", n.upstream)
	for _, s := range n.servers {
		fmt.Fprintf(&b, "        server %s;\n", s)
	}
	fmt.Fprintf(&b, "        keepalive 64;\n    }\n    server {\n        listen %s;\n        server_name _;\n        location / {\n", n.listen)
	location := append([]string{"proxy_pass http://" + n.upstream + ";"}, n.route...)
	location = append(location, "proxy_http_version 1.1;", `proxy_set_header Connection "";`)
	for _, l := range append(location, n.after...) {
		b.WriteString("            " + l + "\n")
	}
	b.WriteString("        }\n    }\n")
	return b.String()
}

// startNginx runs nginx in front of backend: the seed lab's server block
// with upstream keepalive added.
func startNginx(ps *procs, dir, backend string) (string, error) {
	addr, err := loopback()
	if err != nil {
		return "", err
	}
	conf := nginxProxy{upstream: "bench_backend", servers: []string{backend}, listen: addr, after: nginxSeedHeaders}
	return addr, startNginxConf(ps, filepath.Join(dir, "nginx"), addr, conf.String())
}

// startNginxConf runs nginx with httpBlock in prefix, listening on addr.
func startNginxConf(ps *procs, prefix, addr, httpBlock string) error {
	n, err := harness.StartNginx(prefix, addr, httpBlock)
	if n != nil {
		ps.add(n.Process)
	}
	if err != nil {
		return err
	}
	if conf, err := os.ReadFile(filepath.Join(prefix, "nginx.conf")); err == nil {
		if m := reWorkers.FindSubmatch(conf); m != nil {
			nginxWorkers = string(m[1])
		}
	}
	return nil
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

// startTargets starts the backend and the proxies in front of it, and
// checks that each target serves the backend's body. It returns the targets
// in measuring order: frontdesk header_policy sits between the two targets
// it is compared with, so each pair runs back to back in every round.
func startTargets(ctx context.Context, c config, ps *procs, dir, bin string) ([]target, error) {
	backend, err := startBackend(ps, dir)
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	step("backend on %s", backend)
	frontdesks := []struct {
		name         string
		policy, gate bool
	}{
		{targetHealthgate, true, true},
		{targetHeaderPolicy, true, false},
		{targetReverseProxy, false, false},
	}
	if c.dashboard {
		frontdesks = append(frontdesks, frontdesks[0])
		frontdesks[len(frontdesks)-1].name = watchedName(targetHealthgate)
	}
	addrs, admins := map[string]string{}, map[string]string{}
	for _, f := range frontdesks {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fd, addr, err := startFrontdeskTarget(ps, bin, dir, f.name, backend, f.policy, f.gate, c.idle)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		step("%s on %s", f.name, addr)
		addrs[f.name], admins[f.name] = addr, fd.Admin
	}
	ng, err := startNginx(ps, dir, backend)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", targetNginx, err)
	}
	step("%s on %s (worker_processes %s)", targetNginx, ng, nginxWorkers)

	// nginx sits between direct and the Frontdesk targets: the run right
	// after direct (wrk against the bare backend) is the one that follows
	// it in every other round, and no paired ratio uses nginx. The
	// watched twin of healthgate runs right before it.
	targets := []target{
		{Name: targetDirect, URL: "http://" + backend + "/", PoweredBy: true},
		{Name: targetNginx, URL: "http://" + ng + "/", PoweredBy: true},
		{Name: targetHealthgate, URL: "http://" + addrs[targetHealthgate] + "/", PoweredBy: false},
		{Name: targetHeaderPolicy, URL: "http://" + addrs[targetHeaderPolicy] + "/", PoweredBy: false},
		{Name: targetReverseProxy, URL: "http://" + addrs[targetReverseProxy] + "/", PoweredBy: true},
	}
	if c.dashboard {
		twin := watchedName(targetHealthgate)
		targets = slices.Insert(targets, 2, target{Name: twin, URL: "http://" + addrs[twin] + "/", Dashboard: admins[twin]})
	}
	for _, t := range targets {
		if err := check(t); err != nil {
			return nil, err
		}
	}
	return targets, nil
}
