package harness

import (
	"os/exec"
	"strconv"
	"time"
)

// Redis is a running redis-server.
type Redis struct {
	*Process
	Addr string // host:port
	Port int
}

// URL is the redis:// URL of the server.
func (r *Redis) URL() string { return "redis://" + r.Addr + "/0" }

// StartRedis runs redis-server on a free loopback port with no persistence,
// its files and log in dir, and waits until it listens.
func StartRedis(dir string) (*Redis, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	return StartRedisOn(dir, port)
}

// StartRedisOn runs redis-server on 127.0.0.1:port (for restarts on the
// same address).
func StartRedisOn(dir string, port int) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		bin = "/usr/bin/redis-server"
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := Start(dir, "redis-"+strconv.Itoa(port), nil, dir, bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "yes",
		"--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
	if err != nil {
		return nil, err
	}
	if err := p.WaitTCP(addr, 10*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return &Redis{Process: p, Addr: addr, Port: port}, nil
}
