package harness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Redis is a running redis-server.
type Redis struct {
	*Process
	Addr string // host:port
	Port int
	RedisSecurity
}

// RedisSecurity is how a test server is protected.
type RedisSecurity struct {
	// Password is the requirepass (and masterauth), if any.
	Password string
	// TLS, when set, makes the server speak TLS only (its port is the
	// tls-port), on the cluster bus and for replication too.
	TLS *TLSFiles
	// RequireClientCert makes a TLS server refuse clients without a
	// certificate from the CA (tls-auth-clients yes).
	RequireClientCert bool
}

// URL is the redis:// (rediss:// with TLS) URL of the server.
func (r *Redis) URL() string {
	if r.TLS != nil {
		return "rediss://" + r.Addr + "/0"
	}
	return "redis://" + r.Addr + "/0"
}

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
	return startRedisServer(dir, port, RedisSecurity{})
}

// StartRedisSecured runs redis-server on a free loopback port with a
// password and/or TLS.
func StartRedisSecured(dir string, sec RedisSecurity) (*Redis, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	return startRedisServer(dir, port, sec)
}

// startRedisServer runs redis-server on 127.0.0.1:port with the extra
// arguments, protected as sec says.
func startRedisServer(dir string, port int, sec RedisSecurity, extra ...string) (*Redis, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		bin = "/usr/bin/redis-server"
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	portArgs := []string{"--port", strconv.Itoa(port)}
	clientAuth := "optional"
	if sec.RequireClientCert {
		clientAuth = "yes"
	}
	if sec.TLS != nil {
		portArgs = []string{"--port", "0", "--tls-port", strconv.Itoa(port), "--tls-cert-file", sec.TLS.Cert,
			"--tls-key-file", sec.TLS.Key, "--tls-ca-cert-file", sec.TLS.CA, "--tls-auth-clients", clientAuth,
			"--tls-replication", "yes", "--tls-cluster", "yes"}
	}
	args := append([]string{bin, "--bind", "127.0.0.1"}, portArgs...)
	args = append(args, "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "yes",
		"--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru", "--repl-diskless-sync-delay", "0")
	if sec.Password != "" {
		args = append(args, "--requirepass", sec.Password, "--masterauth", sec.Password)
	}
	p, err := Start(dir, "redis-"+strconv.Itoa(port), nil, dir, append(args, extra...)...)
	if err != nil {
		return nil, err
	}
	if err := p.WaitTCP(addr, 10*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return &Redis{Process: p, Addr: addr, Port: port, RedisSecurity: sec}, nil
}

// Cli runs redis-cli against r and returns its output.
func (r *Redis) Cli(args ...string) (string, error) {
	return redisCli(r.Addr, r.RedisSecurity, args...)
}

func redisCli(addr string, sec RedisSecurity, args ...string) (string, error) {
	host, port, _ := strings.Cut(addr, ":")
	argv := []string{"-h", host, "-p", port}
	if sec.Password != "" {
		argv = append(argv, "-a", sec.Password, "--no-auth-warning")
	}
	if sec.TLS != nil {
		argv = append(argv, "--tls", "--cacert", sec.TLS.CA)
	}
	out, err := exec.Command("redis-cli", append(argv, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("redis-cli %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// RedisCluster is a running Redis Cluster: three primaries, each with one
// replica, on free loopback ports.
type RedisCluster struct {
	Nodes []*Redis
	RedisSecurity
}

// Seeds are the addresses of every node, for a client's seed list.
func (c *RedisCluster) Seeds() []string {
	var s []string
	for _, n := range c.Nodes {
		s = append(s, n.Addr)
	}
	return s
}

// Stop stops every node.
func (c *RedisCluster) Stop() {
	for _, n := range c.Nodes {
		n.Stop()
	}
}

// StartRedisCluster runs six redis-servers with cluster-enabled yes (each
// in its own directory under dir), joins them with
// `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`, and
// waits until every node reports cluster_state:ok. A node's failure is
// detected after 1 s (cluster-node-timeout), and the slots of the other
// primaries keep being served meanwhile (cluster-require-full-coverage no).
func StartRedisCluster(dir string, sec RedisSecurity) (*RedisCluster, error) {
	c := &RedisCluster{RedisSecurity: sec}
	for i := range 6 {
		port, err := FreePort()
		if err != nil {
			c.Stop()
			return nil, err
		}
		// The cluster bus's port is its own free port: port+10000 (Redis's
		// default) is past 65535 for a quarter of the ephemeral range.
		busPort, err := FreePort()
		if err != nil {
			c.Stop()
			return nil, err
		}
		nd := filepath.Join(dir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(nd, 0o755); err != nil {
			c.Stop()
			return nil, err
		}
		n, err := startRedisServer(nd, port, sec, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000", "--cluster-port", strconv.Itoa(busPort),
			"--cluster-require-full-coverage", "no", "--maxmemory-policy", "noeviction")
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	args := append([]string{"--cluster", "create"}, c.Seeds()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if _, err := redisCli(c.Nodes[0].Addr, sec, args...); err != nil {
		c.Stop()
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.Nodes {
		for {
			info, err := n.Cli("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:6") {
				break
			}
			if time.Now().After(deadline) {
				c.Stop()
				return nil, fmt.Errorf("redis cluster not ready within 30 s: %s %v", info, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, n := range c.Nodes {
		if err := n.waitReplicaSynced(deadline); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// waitReplicaSynced waits until r, if it is a replica, has finished its
// first sync with its primary (a replica that never synced is never
// promoted).
func (r *Redis) waitReplicaSynced(deadline time.Time) error {
	for {
		info, err := r.Cli("INFO", "replication")
		if err == nil && (strings.Contains(info, "role:master") || strings.Contains(info, "master_link_status:up")) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: replica not synced: %s %v", r.Addr, info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clusterNode is a line of CLUSTER NODES.
type clusterNode struct {
	addr    string
	primary bool
	failed  bool
	slots   [][2]int
}

// nodes reads CLUSTER NODES from the first live node.
func (c *RedisCluster) nodes() ([]clusterNode, error) {
	var lastErr error
	for _, n := range c.Nodes {
		if n.Exited() {
			continue
		}
		out, err := n.Cli("CLUSTER", "NODES")
		if err != nil {
			lastErr = err
			continue
		}
		var nodes []clusterNode
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 8 {
				continue
			}
			addr, _, _ := strings.Cut(f[1], "@")
			cn := clusterNode{addr: addr, primary: strings.Contains(f[2], "master"),
				failed: strings.Contains(f[2], "fail")}
			for _, r := range f[8:] {
				lo, hi, ok := strings.Cut(r, "-")
				if !ok {
					hi = lo
				}
				a, err1 := strconv.Atoi(lo)
				b, err2 := strconv.Atoi(hi)
				if err1 == nil && err2 == nil {
					cn.slots = append(cn.slots, [2]int{a, b})
				}
			}
			nodes = append(nodes, cn)
		}
		return nodes, nil
	}
	return nil, fmt.Errorf("no live cluster node answers: %v", lastErr)
}

// Slot is the hash slot of key, as the cluster computes it.
func (c *RedisCluster) Slot(key string) (int, error) {
	for _, n := range c.Nodes {
		if n.Exited() {
			continue
		}
		out, err := n.Cli("CLUSTER", "KEYSLOT", key)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(strings.TrimSpace(out))
	}
	return 0, fmt.Errorf("no live cluster node")
}

// PrimaryFor returns the node serving key's slot as a healthy primary.
func (c *RedisCluster) PrimaryFor(key string) (*Redis, error) {
	slot, err := c.Slot(key)
	if err != nil {
		return nil, err
	}
	nodes, err := c.nodes()
	if err != nil {
		return nil, err
	}
	for _, cn := range nodes {
		if !cn.primary || cn.failed {
			continue
		}
		for _, r := range cn.slots {
			if slot >= r[0] && slot <= r[1] {
				for _, n := range c.Nodes {
					if n.Addr == cn.addr {
						return n, nil
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("no healthy primary serves slot %d of %q", slot, key)
}

// WaitPrimaryMoved waits until key's slot is served by a healthy primary
// other than old (a replica promoted by failover), and returns it.
func (c *RedisCluster) WaitPrimaryMoved(key string, old *Redis, timeout time.Duration) (*Redis, error) {
	deadline := time.Now().Add(timeout)
	for {
		n, err := c.PrimaryFor(key)
		if err == nil && n != old {
			return n, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no failover of %q's slot within %s (last: %v)", key, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RedisSentinels is a Sentinel setup: one primary, one replica and three
// sentinels monitoring the primary as Master, on free loopback ports.
type RedisSentinels struct {
	Primary, Replica *Redis
	Sentinels        []*Process
	Addrs            []string // the sentinels' addresses
	Master           string
	// RedisSecurity protects the data nodes and the sentinels alike (the
	// same requirepass; TLS everywhere, replication included).
	RedisSecurity
}

// Stop stops every process.
func (s *RedisSentinels) Stop() {
	for _, p := range s.Sentinels {
		p.Stop()
	}
	for _, r := range []*Redis{s.Primary, s.Replica} {
		if r != nil {
			r.Stop()
		}
	}
}

// StartRedisSentinels runs a primary, a replica of it, and three
// redis-sentinel processes (Debian's redis-sentinel package) with a quorum
// of 2 that declare the primary down after 1 s, and waits until every
// sentinel knows the replica and the two other sentinels.
func StartRedisSentinels(dir string, sec RedisSecurity) (*RedisSentinels, error) {
	s := &RedisSentinels{Master: "frontdesk", RedisSecurity: sec}
	var err error
	start := func(name string, extra ...string) (*Redis, error) {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		return startRedisServer(d, port, sec, extra...)
	}
	if s.Primary, err = start("primary"); err != nil {
		return nil, err
	}
	if s.Replica, err = start("replica", "--replicaof", "127.0.0.1", strconv.Itoa(s.Primary.Port)); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.Replica.waitReplicaSynced(time.Now().Add(30 * time.Second)); err != nil {
		s.Stop()
		return nil, err
	}
	bin, lerr := exec.LookPath("redis-sentinel")
	if lerr != nil {
		bin = "/usr/bin/redis-sentinel"
	}
	for i := range 3 {
		port, err := FreePort()
		if err != nil {
			s.Stop()
			return nil, err
		}
		d := filepath.Join(dir, "sentinel"+strconv.Itoa(i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			s.Stop()
			return nil, err
		}
		listen := fmt.Sprintf("port %d\n", port)
		if sec.TLS != nil {
			listen = fmt.Sprintf("port 0\ntls-port %d\ntls-cert-file %s\ntls-key-file %s\ntls-ca-cert-file %s\n"+
				"tls-auth-clients optional\ntls-replication yes\n", port, sec.TLS.Cert, sec.TLS.Key, sec.TLS.CA)
		}
		conf := listen + fmt.Sprintf("bind 127.0.0.1\nprotected-mode no\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %[2]s 1000\n"+
			"sentinel failover-timeout %[2]s 10000\n"+
			"sentinel parallel-syncs %[2]s 1\n", d, s.Master, s.Primary.Port)
		if sec.Password != "" {
			conf += fmt.Sprintf("sentinel auth-pass %s %s\nrequirepass %s\nsentinel sentinel-pass %[2]s\n", s.Master, sec.Password, sec.Password)
		}
		cf := filepath.Join(d, "sentinel.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			s.Stop()
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p, err := Start(d, "sentinel-"+strconv.Itoa(port), nil, d, bin, cf)
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.Sentinels = append(s.Sentinels, p)
		s.Addrs = append(s.Addrs, addr)
		if err := p.WaitTCP(addr, 10*time.Second); err != nil {
			s.Stop()
			return nil, err
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range s.Addrs {
		for {
			out, err := redisCli(addr, sec, "SENTINEL", "MASTER", s.Master)
			if err == nil && sentinelField(out, "num-slaves") == "1" && sentinelField(out, "num-other-sentinels") == "2" {
				break
			}
			if time.Now().After(deadline) {
				s.Stop()
				return nil, fmt.Errorf("sentinel %s not ready within 30 s: %s %v", addr, out, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return s, nil
}

// sentinelField reads a field of redis-cli's SENTINEL MASTER output (name
// and value on alternate lines).
func sentinelField(out, name string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		if strings.TrimSpace(lines[i]) == name {
			return strings.TrimSpace(lines[i+1])
		}
	}
	return ""
}

// PrimaryAddr is the primary's address according to the first sentinel
// that answers.
func (s *RedisSentinels) PrimaryAddr() (string, error) {
	var lastErr error
	for _, addr := range s.Addrs {
		out, err := redisCli(addr, s.RedisSecurity, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.Master)
		if err != nil {
			lastErr = err
			continue
		}
		f := strings.Fields(out)
		if len(f) == 2 {
			return f[0] + ":" + f[1], nil
		}
		lastErr = fmt.Errorf("sentinel %s: %q", addr, out)
	}
	return "", lastErr
}

// WaitFailover waits until every sentinel names a primary other than old
// and that server answers as a primary.
func (s *RedisSentinels) WaitFailover(old string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		agreed, addr := true, ""
		for _, a := range s.Addrs {
			out, err := redisCli(a, s.RedisSecurity, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.Master)
			f := strings.Fields(out)
			if err != nil || len(f) != 2 || f[0]+":"+f[1] == old {
				agreed = false
				break
			}
			addr = f[0] + ":" + f[1]
		}
		if agreed {
			if role, err := redisCli(addr, s.RedisSecurity, "ROLE"); err == nil && strings.HasPrefix(role, "master") {
				return addr, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no failover from %s within %s", old, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
