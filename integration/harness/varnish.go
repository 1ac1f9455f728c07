package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Varnish is a running varnishd (Debian's varnish) in the foreground.
type Varnish struct {
	*Process
	Addr string
}

// VarnishBin is the path of varnishd (Debian's /usr/sbin/varnishd).
func VarnishBin() string {
	if p, err := exec.LookPath("varnishd"); err == nil {
		return p
	}
	return "/usr/sbin/varnishd"
}

// StartVarnish writes vcl into dir/default.vcl, checks it with
// `varnishd -C`, and runs `varnishd -F` listening on addr (127.0.0.1:port)
// with its working directory (-n) in dir, malloc storage of storage (for
// example "256m"), no management port (-T none) and no jail (-j none, so
// that it can read dir whoever owns it), and waits until addr listens. It is
// never the Debian service.
func StartVarnish(dir, addr, vcl, storage string) (*Varnish, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "default.vcl")
	if err := os.WriteFile(conf, []byte(vcl), 0o644); err != nil {
		return nil, err
	}
	work := filepath.Join(dir, "work")
	bin := VarnishBin()
	if out, err := exec.Command(bin, "-C", "-f", conf, "-n", work, "-j", "none").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("varnishd -C: %v\n%s", err, tail(string(out), 40))
	}
	p, err := Start(dir, "varnishd", nil, dir, bin, "-F", "-a", addr, "-f", conf, "-n", work,
		"-s", "malloc,"+storage, "-T", "none", "-j", "none")
	if err != nil {
		return nil, err
	}
	if err := p.WaitTCP(addr, 20*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return &Varnish{Process: p, Addr: addr}, nil
}
