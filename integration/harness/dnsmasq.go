package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Dnsmasq is a running real dnsmasq (Debian's), the oracle for DNS answers.
type Dnsmasq struct {
	*Process
	Addr string // 127.0.0.1:port, UDP and TCP
}

// DnsmasqBin is the path of the dnsmasq binary.
func DnsmasqBin() string {
	if p, err := exec.LookPath("dnsmasq"); err == nil {
		return p
	}
	return "/usr/sbin/dnsmasq"
}

// StartDnsmasq writes conf into dir/dnsmasq.conf, checks it with
// `dnsmasq --test`, and runs dnsmasq in the foreground on 127.0.0.1:port
// only, without reading /etc/hosts or /etc/resolv.conf unless conf says so.
func StartDnsmasq(dir, conf string, port int) (*Dnsmasq, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "dnsmasq.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command(DnsmasqBin(), "--test", "-C", path).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dnsmasq --test: %v\n%s", err, out)
	}
	p, err := Start(dir, "dnsmasq-"+strconv.Itoa(port), nil, dir, DnsmasqArgv(dir, path, port)...)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := p.WaitTCP(addr, 10*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return &Dnsmasq{Process: p, Addr: addr}, nil
}

// DnsmasqArgv is the command line that runs dnsmasq in the foreground with
// the configuration file conf on 127.0.0.1:port only, its pid file in dir and
// its log on stderr.
func DnsmasqArgv(dir, conf string, port int) []string {
	args := []string{DnsmasqBin(), "-k", "-C", conf, "--port", strconv.Itoa(port), "--listen-address", "127.0.0.1",
		"--bind-interfaces", "--pid-file=" + filepath.Join(dir, "dnsmasq.pid"), "--log-facility=-"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root", "--group=root")
	}
	return args
}

// FreeUDPTCPPort returns a port free for both UDP and TCP on 127.0.0.1 a
// moment ago.
func FreeUDPTCPPort() (int, error) {
	for i := 0; i < 20; i++ {
		port, err := FreePort()
		if err != nil {
			return 0, err
		}
		c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return port, nil
		}
		if !strings.Contains(err.Error(), "in use") {
			return 0, err
		}
	}
	return 0, fmt.Errorf("no port free for both UDP and TCP")
}
