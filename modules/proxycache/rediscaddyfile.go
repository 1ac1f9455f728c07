package proxycache

import (
	"strconv"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// UnmarshalCaddyfile reads
//
//	redis [<url>] {
//	    cluster <host:port>...
//	    sentinel <master> <host:port>...
//	    sentinel_username <name>
//	    sentinel_password <secret>
//	    username <name>
//	    password <secret>
//	    db <n>
//	    tls [{
//	        ca <pem file>
//	        server_name <name>
//	        client_cert <cert file> <key file>
//	        insecure_skip_verify
//	    }]
//	    prefix <string>
//	    inactive <duration>
//	    timeout <duration>
//	    pool_size <n>
//	    local <size> [{
//	        heartbeat <duration>
//	    }]
//	}
//
// One server is given by its URL; a cluster or a Sentinel-managed primary
// by its option instead.
func (s *RedisStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if d.NextArg() {
		s.URL = d.Val()
	}
	if d.NextArg() {
		return d.Errf("proxy_cache: storage redis: unexpected argument %q", d.Val())
	}
	var auth sentinelAuth
	for d.NextBlock(0) {
		var err error
		switch opt := d.Val(); opt {
		case "tls":
			err = s.unmarshalTLS(d)
		case "local":
			err = s.unmarshalLocal(d)
		default:
			err = s.unmarshalOption(d, opt, d.RemainingArgs(), &auth)
		}
		if err != nil {
			return err
		}
	}
	if auth.user != "" || auth.pass != "" {
		if s.Sentinel == nil {
			return d.Errf("proxy_cache: storage redis: sentinel_username and sentinel_password need sentinel")
		}
		s.Sentinel.Username, s.Sentinel.Password = auth.user, auth.pass
	}
	if _, err := s.topology(); err != nil {
		return d.Errf("proxy_cache: storage %v", err)
	}
	return nil
}

// sentinelAuth holds sentinel_username and sentinel_password until the
// block is read: they go into the sentinel option's RedisSentinel.
type sentinelAuth struct{ user, pass string }

// redisFail is an error at the current token about the option opt.
func redisFail(d *caddyfile.Dispenser, opt, format string, a ...any) error {
	return d.Errf("proxy_cache: storage redis: "+opt+": "+format, a...)
}

// unmarshalOption reads an option whose values are all on its line.
func (s *RedisStorage) unmarshalOption(d *caddyfile.Dispenser, opt string, args []string, auth *sentinelAuth) error {
	switch opt {
	case "cluster":
		if len(args) == 0 {
			return redisFail(d, opt, "want the seed addresses (host:port ...)")
		}
		s.Cluster = append(s.Cluster, args...)
		return nil
	case "sentinel":
		if len(args) < 2 {
			return redisFail(d, opt, "want the master name, then the sentinels' addresses (host:port ...)")
		}
		s.Sentinel = &RedisSentinel{Master: args[0], Addresses: args[1:]}
		return nil
	}
	if len(args) != 1 {
		return redisFail(d, opt, "want exactly one value")
	}
	v := args[0]
	switch opt {
	case "username":
		s.Username = v
	case "password":
		s.Password = v
	case "sentinel_username":
		auth.user = v
	case "sentinel_password":
		auth.pass = v
	case "prefix":
		s.Prefix = v
	case "inactive", "timeout":
		return s.unmarshalDuration(d, opt, v)
	case "pool_size", "db":
		return s.unmarshalCount(d, opt, v)
	default:
		return d.Errf("proxy_cache: storage redis: unknown option %q", opt)
	}
	return nil
}

// unmarshalDuration reads the value of inactive or timeout.
func (s *RedisStorage) unmarshalDuration(d *caddyfile.Dispenser, opt, v string) error {
	dur, err := caddy.ParseDuration(v)
	if err != nil || dur <= 0 {
		return redisFail(d, opt, "%q is not a positive duration", v)
	}
	if opt == "inactive" {
		s.Inactive = caddy.Duration(dur)
	} else {
		s.Timeout = caddy.Duration(dur)
	}
	return nil
}

// unmarshalCount reads the value of pool_size (at least 1) or db (at
// least 0), a plain decimal number.
func (s *RedisStorage) unmarshalCount(d *caddyfile.Dispenser, opt, v string) error {
	least := 0
	if opt == "pool_size" {
		least = 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least || strconv.Itoa(n) != v {
		return redisFail(d, opt, "%q is not a number of at least %d", v, least)
	}
	if opt == "db" {
		s.DB = n
	} else {
		s.PoolSize = n
	}
	return nil
}

// unmarshalTLS reads the tls option and its block.
func (s *RedisStorage) unmarshalTLS(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.Errf("proxy_cache: storage redis: tls: unexpected argument %q (options go in a block)", d.Val())
	}
	s.TLS = new(RedisTLS)
	for d.NextBlock(1) {
		opt := d.Val()
		args := d.RemainingArgs()
		want := map[string]int{"ca": 1, "server_name": 1, "client_cert": 2, "insecure_skip_verify": 0}
		n, ok := want[opt]
		if !ok {
			return d.Errf("proxy_cache: storage redis: tls: unknown option %q", opt)
		}
		if len(args) != n {
			return d.Errf("proxy_cache: storage redis: tls: %s: want %d value(s)", opt, n)
		}
		switch opt {
		case "ca":
			s.TLS.CA = args[0]
		case "server_name":
			s.TLS.ServerName = args[0]
		case "client_cert":
			s.TLS.ClientCert, s.TLS.ClientKey = args[0], args[1]
		case "insecure_skip_verify":
			s.TLS.InsecureSkipVerify = true
		}
	}
	return nil
}

// unmarshalLocal reads the local option: local <size> [{ heartbeat <d> }].
func (s *RedisStorage) unmarshalLocal(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return d.Errf("proxy_cache: storage redis: local: want the local tier's size (e.g. 64m)")
	}
	n, err := caddyopt.ParseSize(d.Val())
	if err != nil || n <= 0 {
		return d.Errf("proxy_cache: storage redis: local: %q is not a size (e.g. 64m)", d.Val())
	}
	s.Local = &RedisLocal{MaxSize: n}
	if d.NextArg() {
		return d.Errf("proxy_cache: storage redis: local: unexpected argument %q", d.Val())
	}
	for d.NextBlock(1) {
		if d.Val() != "heartbeat" {
			return d.Errf("proxy_cache: storage redis: local: unknown option %q", d.Val())
		}
		args := d.RemainingArgs()
		if len(args) != 1 {
			return d.Errf("proxy_cache: storage redis: local: heartbeat: want exactly one value")
		}
		dur, err := caddy.ParseDuration(args[0])
		if err != nil || dur <= 0 {
			return d.Errf("proxy_cache: storage redis: local: heartbeat: %q is not a positive duration", args[0])
		}
		s.Local.Heartbeat = caddy.Duration(dur)
	}
	return nil
}
