// Package harness starts Frontdesk and its real peers (the lab's Flask API,
// nginx, ...) on free loopback ports and stops them by PID. The integration
// tests and the benchmark program share it.
package harness

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RepoRoot returns the directory holding Frontdesk's go.mod, found by walking
// up from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/frontdesk-proxy/frontdesk\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("harness: Frontdesk's go.mod not found above the working directory")
		}
		dir = parent
	}
}

// BuildFrontdesk builds ./cmd/frontdesk into dir and returns the binary's path.
func BuildFrontdesk(dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "frontdesk")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/frontdesk")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building frontdesk: %v\n%s", err, out)
	}
	return bin, nil
}

// handedOut holds the ports FreePort has returned in this process.
var handedOut sync.Map

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and
// that it has not returned before in this process: a port given to one
// server and not yet bound by it must not go to another (seen once in CI:
// a site's port was also given to another instance's admin endpoint).
func FreePort() (int, error) {
	// A port handed out before stays bound while the next is asked for:
	// the kernel often gives the port just closed again.
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for range 1000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if _, dup := handedOut.LoadOrStore(port, true); !dup {
			l.Close()
			return port, nil
		}
		held = append(held, l)
	}
	return 0, errors.New("no free port that was not handed out already")
}

// Ports of FreePortRun: below Linux's ephemeral range (32768-60999), so no
// outgoing connection holds one, and above the well-known services.
const (
	runLow  = 20000
	runHigh = 32768
)

// FreePortRun returns a port p such that p ... p+n are all free and none
// was handed out before in this process (by FreePort either); they count as
// handed out from now on. It is for a script that takes a base port and
// uses the next ones.
func FreePortRun(n int) (int, error) {
	for range 200 {
		p := runLow + rand.IntN(runHigh-runLow-n)
		var held []net.Listener
		ok := true
		for i := 0; i <= n && ok; i++ {
			if _, dup := handedOut.Load(p + i); dup {
				ok = false
				break
			}
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
		}
		for _, l := range held {
			l.Close()
		}
		if ok {
			for i := 0; i <= n; i++ {
				handedOut.Store(p+i, true)
			}
			return p, nil
		}
	}
	return 0, fmt.Errorf("no run of %d free ports in %d-%d", n+1, runLow, runHigh)
}

// Process is a peer or Frontdesk itself, running in its own process group.
type Process struct {
	Name    string
	Cmd     *exec.Cmd
	LogPath string // combined stdout and stderr

	mu      sync.Mutex
	done    chan struct{}
	exitErr error
}

// Start runs name with args in dir with env added to the current environment.
// Output goes to a log file in logDir.
func Start(logDir, name string, env []string, dir string, argv ...string) (*Process, error) {
	logPath := filepath.Join(logDir, FileName(name)+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// PID is the process ID.
func (p *Process) PID() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, waits up to 10 s, then SIGKILLs it.
func (p *Process) Stop() {
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.signal(syscall.SIGKILL)
		<-p.done
	}
}

// Kill ends the process group at once with SIGKILL, as a crash would.
func (p *Process) Kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

func (p *Process) signal(sig syscall.Signal) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.PID(), sig)
}

// Log returns what the process has printed so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// WaitTCP waits until addr accepts connections or p exits.
func (p *Process) WaitTCP(addr string, timeout time.Duration) error {
	return p.WaitTCPEvery(addr, timeout, 50*time.Millisecond)
}

// WaitTCPEvery is WaitTCP trying every interval.
func (p *Process) WaitTCPEvery(addr string, timeout, interval time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("%s exited before listening on %s:\n%s", p.Name, addr, tail(p.Log(), 40))
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(interval)
	}
	return fmt.Errorf("%s did not listen on %s within %s:\n%s", p.Name, addr, timeout, tail(p.Log(), 40))
}

// WaitHTTP waits until url answers with status want or p exits.
func (p *Process) WaitHTTP(url string, want int, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if p.Exited() {
			return fmt.Errorf("%s exited before %s answered:\n%s", p.Name, url, tail(p.Log(), 40))
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: %s did not answer %d within %s (last: %s):\n%s", p.Name, url, want, timeout, last, tail(p.Log(), 40))
}

// FileName turns a process or target name into a file name.
func FileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
