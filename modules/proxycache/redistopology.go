package proxycache

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
)

// RedisSentinel locates a Sentinel-managed primary: the sentinels to ask
// and the name they know the primary by.
type RedisSentinel struct {
	// Master is the name the sentinels monitor the primary under (the
	// <master-name> of "sentinel monitor"). Required.
	Master string `json:"master,omitempty"`

	// Addresses are the sentinels, host:port each (26379 is Sentinel's
	// usual port). At least one; list them all so that any may be down.
	Addresses []string `json:"addresses,omitempty"`

	// Username and Password authenticate to the sentinels themselves
	// (Sentinel's requirepass / ACL user), which may differ from the data
	// nodes'. Placeholders such as {env.SENTINEL_PASSWORD} are replaced.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// RedisTLS turns on TLS to every Redis node (and sentinel) of the storage.
// With no field set, the server certificate is verified against the
// system's roots for the address's host name.
type RedisTLS struct {
	// CA is a PEM file of the certificate authorities that sign the Redis
	// servers' certificates, instead of the system's roots.
	CA string `json:"ca,omitempty"`

	// ServerName is the name the servers' certificates are checked for.
	// Default: the host of each address. Set it when the nodes are
	// addressed by IP (as Redis Cluster announces them).
	ServerName string `json:"server_name,omitempty"`

	// ClientCert and ClientKey are PEM files of a client certificate, for
	// servers that require one (tls-auth-clients yes).
	ClientCert string `json:"client_cert,omitempty"`
	ClientKey  string `json:"client_key,omitempty"`

	// InsecureSkipVerify accepts any server certificate. For tests only.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
}

// redisTopology is how a storage reaches Redis.
type redisTopology uint8

const (
	topologyServer   redisTopology = iota // one server, by URL
	topologyCluster                       // Redis Cluster, by seed addresses
	topologySentinel                      // a Sentinel-managed primary
)

// topology checks that exactly one of url, cluster and sentinel is given,
// and that it is well formed. The Caddyfile parser and Provision both call
// it: the one place these rules live.
func (s *RedisStorage) topology() (redisTopology, error) {
	n := 0
	for _, set := range []bool{s.URL != "", len(s.Cluster) > 0, s.Sentinel != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return 0, errors.New("redis storage: give exactly one of a URL (one server), cluster <addresses> or sentinel <master> <addresses>")
	}
	switch {
	case s.URL != "":
		if hasPlaceholder(s.URL) {
			return topologyServer, nil
		}
		_, err := parseRedisURL(s.URL)
		return topologyServer, err
	case len(s.Cluster) > 0:
		if s.DB != 0 {
			return 0, errors.New("redis storage: a cluster has only database 0 (db must not be set)")
		}
		return topologyCluster, checkAddrs("cluster", s.Cluster)
	default:
		if s.Sentinel.Master == "" {
			return 0, errors.New("redis storage: sentinel: the master name is required")
		}
		if len(s.Sentinel.Addresses) == 0 {
			return 0, errors.New("redis storage: sentinel: want at least one sentinel address")
		}
		return topologySentinel, checkAddrs("sentinel", s.Sentinel.Addresses)
	}
}

// checkAddrs checks a list of host:port addresses.
func checkAddrs(what string, addrs []string) error {
	for _, a := range addrs {
		if hasPlaceholder(a) {
			continue
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return fmt.Errorf("redis storage: %s: %q is not a host:port address", what, a)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("redis storage: %s: %q has no valid port", what, a)
		}
	}
	return nil
}

func hasPlaceholder(s string) bool { return strings.Contains(s, "{") }

// parseRedisURL checks and parses a redis:// or rediss:// URL.
func parseRedisURL(u string) (*redis.Options, error) {
	if u == "" {
		return nil, errors.New("redis storage: url is required")
	}
	if !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") {
		return nil, fmt.Errorf("redis storage: %q is not a redis:// or rediss:// URL", u)
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		return nil, fmt.Errorf("redis storage: bad URL %q: %v", redactURL(u), err)
	}
	return opts, nil
}

// redactURL is u without its password.
func redactURL(u string) string {
	if pu, err := url.Parse(u); err == nil && pu.User != nil {
		pu.User = nil
		return pu.String()
	}
	return u
}

// replacePlaceholders replaces the global placeholders ({env.*}, {file.*})
// in the fields that may hold secrets or addresses.
func (s *RedisStorage) replacePlaceholders() {
	repl := caddy.NewReplacer()
	r := func(p *string) { *p = repl.ReplaceKnown(*p, "") }
	r(&s.URL)
	r(&s.Username)
	r(&s.Password)
	for i := range s.Cluster {
		r(&s.Cluster[i])
	}
	if s.Sentinel != nil {
		r(&s.Sentinel.Username)
		r(&s.Sentinel.Password)
		for i := range s.Sentinel.Addresses {
			r(&s.Sentinel.Addresses[i])
		}
	}
	if s.TLS != nil {
		r(&s.TLS.CA)
		r(&s.TLS.ClientCert)
		r(&s.TLS.ClientKey)
	}
}

// universalOptions builds go-redis's options for the storage's topology:
// NewUniversalClient then returns a Client (one server), a ClusterClient
// or a sentinel-backed FailoverClient.
func (s *RedisStorage) universalOptions(topo redisTopology) (*redis.UniversalOptions, error) {
	u := &redis.UniversalOptions{DB: s.DB}
	switch topo {
	case topologyServer:
		opts, err := parseRedisURL(s.URL)
		if err != nil {
			return nil, err
		}
		u.Addrs = []string{opts.Addr}
		u.Username, u.Password, u.TLSConfig = opts.Username, opts.Password, opts.TLSConfig
		if s.DB == 0 {
			u.DB = opts.DB
		}
	case topologyCluster:
		u.Addrs = s.Cluster
		u.IsClusterMode = true
	case topologySentinel:
		u.Addrs = s.Sentinel.Addresses
		u.MasterName = s.Sentinel.Master
		u.SentinelUsername, u.SentinelPassword = s.Sentinel.Username, s.Sentinel.Password
	}
	if s.Username != "" {
		u.Username = s.Username
	}
	if s.Password != "" {
		u.Password = s.Password
	}
	if s.TLS != nil {
		cfg, err := s.TLS.config()
		if err != nil {
			return nil, err
		}
		u.TLSConfig = cfg
	}
	return u, nil
}

// config builds the TLS client configuration.
func (t *RedisTLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("redis storage: tls: ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis storage: tls: ca: %s holds no PEM certificate", t.CA)
		}
		cfg.RootCAs = pool
	}
	if (t.ClientCert == "") != (t.ClientKey == "") {
		return nil, errors.New("redis storage: tls: client_cert needs both a certificate and a key file")
	}
	if t.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(t.ClientCert, t.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("redis storage: tls: client_cert: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// zoneID names the zone in stats and metrics, without passwords: the
// topology's addresses and the key prefix.
func (s *RedisStorage) zoneID() string {
	var where string
	switch {
	case len(s.Cluster) > 0:
		where = "cluster:" + strings.Join(s.Cluster, ",")
	case s.Sentinel != nil:
		where = "sentinel:" + s.Sentinel.Master + "@" + strings.Join(s.Sentinel.Addresses, ",")
	default:
		where = redactURL(s.URL)
	}
	return "redis/" + where + "/" + s.Prefix
}
