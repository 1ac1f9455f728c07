package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// HAProxy is a running haproxy in the foreground with a config in its own
// directory.
type HAProxy struct {
	*Process
	Addr string
}

// HAProxyBin is the path of the haproxy binary (Debian's /usr/sbin/haproxy).
func HAProxyBin() string {
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	return "/usr/sbin/haproxy"
}

// haproxyGlobal is the global section StartHAProxy puts before the caller's
// sections: one thread, like the harness's nginx with worker_processes 1, and
// no file outside dir (no pidfile, no stats socket, no chroot, no syslog).
const haproxyGlobal = `global
    nbthread 1
    maxconn 4096

`

// StartHAProxy writes the global section followed by sections (defaults,
// frontend, backend ...) into dir/haproxy.cfg, checks it with `haproxy -c`,
// runs `haproxy -f haproxy.cfg -db` (foreground, not a service) and waits
// until addr listens.
func StartHAProxy(dir, addr, sections string) (*HAProxy, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "haproxy.cfg")
	text := haproxyGlobal + strings.TrimLeft(sections, "\n")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	bin := HAProxyBin()
	if out, err := exec.Command(bin, "-c", "-f", conf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("haproxy -c: %v\n%s", err, out)
	}
	p, err := Start(dir, "haproxy", nil, dir, bin, "-f", conf, "-db")
	if err != nil {
		return nil, err
	}
	if err := p.WaitTCP(addr, 10*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return &HAProxy{Process: p, Addr: addr}, nil
}
