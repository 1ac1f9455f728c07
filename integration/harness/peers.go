package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Python is the interpreter that runs the lab API: Debian's, which has
// python3-flask, not whatever python3 comes first on PATH.
const Python = "/usr/bin/python3"

// MissingPeer says why a peer cannot run here, or "" when it can. Each peer is
// named by the Debian package that provides it.
func MissingPeer(pkg string) string {
	switch pkg {
	case "python3-flask":
		if err := exec.Command(Python, "-c", "import flask").Run(); err != nil {
			return "python3-flask is not installed (" + Python + " cannot import flask)"
		}
		return ""
	default:
		bin := map[string]string{"nginx": "nginx", "wrk": "wrk", "dnsmasq": "dnsmasq", "redis-server": "redis-server", "dnsperf": "dnsperf", "nftables": "nft"}[pkg]
		if bin == "" {
			bin = pkg
		}
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat("/usr/sbin/" + bin); err == nil {
				return ""
			}
			return pkg + " is not installed (" + bin + " not found)"
		}
		return ""
	}
}

// Flask is a running instance of the lab's Flask API.
type Flask struct {
	*Process
	Addr string // host:port
}

// StartFlask runs integration/testdata/app.py on a free loopback port.
func StartFlask(logDir string) (*Flask, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	return StartFlaskOn(logDir, port)
}

// StartFlaskOn runs integration/testdata/app.py on 127.0.0.1:port and waits
// for /healthz.
func StartFlaskOn(logDir string, port int) (*Flask, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	app := filepath.Join(root, "integration", "testdata", "app.py")
	p, err := Start(logDir, "flask-"+strconv.Itoa(port), []string{"APP_PORT=" + strconv.Itoa(port), "PYTHONUNBUFFERED=1"}, logDir, Python, app)
	if err != nil {
		return nil, err
	}
	f := &Flask{Process: p, Addr: "127.0.0.1:" + strconv.Itoa(port)}
	if err := p.WaitHTTP("http://"+f.Addr+"/healthz", 200, 20*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return f, nil
}

// Nginx is a running nginx with a config rendered into its own prefix dir.
type Nginx struct {
	*Process
	Addr string
}

// nginxMain wraps a server block in a minimal main config that keeps every
// file inside the prefix directory.
var nginxMain = template.Must(template.New("nginx").Parse(`
{{if .Root}}user root;{{end}}
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log notice;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path {{.Dir}}/client_body;
    proxy_temp_path       {{.Dir}}/proxy;
    fastcgi_temp_path     {{.Dir}}/fastcgi;
    uwsgi_temp_path       {{.Dir}}/uwsgi;
    scgi_temp_path        {{.Dir}}/scgi;
{{.HTTP}}
}
`))

// StartNginx runs nginx with httpBlock (the content of its http{} block, for
// example the seed's server block) in dir, and waits until addr listens.
func StartNginx(dir, addr, httpBlock string) (*Nginx, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var sb strings.Builder
	if err := nginxMain.Execute(&sb, map[string]any{"Dir": dir, "HTTP": httpBlock, "Root": os.Geteuid() == 0}); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(sb.String()), 0o644); err != nil {
		return nil, err
	}
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	if out, err := exec.Command(bin, "-t", "-p", dir, "-c", conf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	p, err := Start(dir, "nginx", nil, dir, bin, "-p", dir, "-c", conf, "-g", "daemon off;")
	if err != nil {
		return nil, err
	}
	if err := p.WaitTCP(addr, 10*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return &Nginx{Process: p, Addr: addr}, nil
}

// Frontdesk is a running frontdesk binary.
type Frontdesk struct {
	*Process
	Admin string // admin API host:port
}

// StartFrontdesk runs `frontdesk run --config caddyfile` with env added (each
// "KEY=value"; FRONTDESK_ADMIN is set to a free port unless given) and waits
// until the admin API answers and every address in waitAddrs listens.
func StartFrontdesk(bin, logDir, name, caddyfile string, env []string, waitAddrs ...string) (*Frontdesk, error) {
	admin := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "FRONTDESK_ADMIN="); ok {
			admin = v
		}
	}
	if admin == "" {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		admin = "127.0.0.1:" + strconv.Itoa(port)
		env = append(env, "FRONTDESK_ADMIN="+admin)
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	// Keep Caddy's autosave and storage out of the user's home.
	env = append(env, "XDG_CONFIG_HOME="+filepath.Join(logDir, "config"), "XDG_DATA_HOME="+filepath.Join(logDir, "data"))
	p, err := Start(logDir, name, env, root, bin, "run", "--config", caddyfile, "--adapter", "caddyfile")
	if err != nil {
		return nil, err
	}
	fd := &Frontdesk{Process: p, Admin: admin}
	if err := p.WaitHTTP("http://"+admin+"/config/", 200, 20*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	for _, a := range waitAddrs {
		if err := p.WaitTCP(a, 10*time.Second); err != nil {
			p.Stop()
			return nil, err
		}
	}
	return fd, nil
}
