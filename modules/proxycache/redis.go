package proxycache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

func init() {
	caddy.RegisterModule(RedisStorage{})
}

// Defaults of the redis storage.
const (
	defaultRedisPrefix   = "frontdesk:proxy_cache:"
	defaultRedisInactive = 10 * time.Minute
	defaultRedisTimeout  = 250 * time.Millisecond
	redisMaxObject       = 512 << 20 // Redis's own limit for a string value
)

// RedisStorage keeps entries in Redis, so several Frontdesk instances share
// one cache. Each key's variants are one Redis string (the same encoding as
// the disk storage, with a CRC) that expires after Inactive without use;
// bounding memory is Redis's job (maxmemory with an LRU policy). Commands
// time out quickly: when Redis is unreachable, requests go to the origin
// uncached and a warning is logged, never an error to the client.
type RedisStorage struct {
	// URL locates the server: redis://[user:password@]host:port[/db] or
	// rediss:// for TLS. Required.
	URL string `json:"url,omitempty"`

	// Prefix is put before every Redis key this storage uses. Default:
	// "frontdesk:proxy_cache:".
	Prefix string `json:"prefix,omitempty"`

	// Inactive is how long an entry lives in Redis without being used
	// (each hit extends it). Default: 10m.
	Inactive caddy.Duration `json:"inactive,omitempty"`

	// Timeout bounds each Redis command, dialing included. Default: 250ms.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// PoolSize is the number of pooled connections. Default: go-redis's
	// (10 per CPU).
	PoolSize int `json:"pool_size,omitempty"`

	client *redis.Client
	faults *faultLog // shared with the dialer
}

// CaddyModule returns the Caddy module information.
func (RedisStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.proxy_cache.storage.redis",
		New: func() caddy.Module { return new(RedisStorage) },
	}
}

// Provision builds the connection pool. It does not connect: Redis being
// down at start is the same as Redis going down later.
func (s *RedisStorage) Provision(ctx caddy.Context) error {
	opts, err := parseRedisURL(s.URL)
	if err != nil {
		return err
	}
	if s.Prefix == "" {
		s.Prefix = defaultRedisPrefix
	}
	if s.Inactive == 0 {
		s.Inactive = caddy.Duration(defaultRedisInactive)
	}
	if s.Timeout == 0 {
		s.Timeout = caddy.Duration(defaultRedisTimeout)
	}
	if s.Inactive < 0 || s.Timeout < 0 || s.PoolSize < 0 {
		return errors.New("redis storage: inactive, timeout and pool_size must be positive")
	}
	t := time.Duration(s.Timeout)
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = t, t, t, t
	opts.MaxRetries = -1
	opts.DialerRetries = 1 // a refused dial fails the command at once, not after 5 tries 100 ms apart
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if s.PoolSize > 0 {
		opts.PoolSize = s.PoolSize
	}
	s.faults = &faultLog{z: faultsFor(s.zoneID()), logger: ctx.Logger()}
	opts.Dialer = taggedDialer(opts, s.faults)
	installRedisLogger.Do(func() { redis.SetLogger(redisLibLogger{}) })
	s.client = redis.NewClient(opts)
	return nil
}

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
		return nil, fmt.Errorf("redis storage: bad URL %q: %v", u, err)
	}
	return opts, nil
}

// Cleanup closes the connection pool.
func (s *RedisStorage) Cleanup() error {
	if s.client == nil {
		return nil
	}
	return s.client.Close()
}

// UnmarshalCaddyfile reads
//
//	redis <url> {
//	    prefix <string>
//	    inactive <duration>
//	    timeout <duration>
//	    pool_size <n>
//	}
func (s *RedisStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if !d.NextArg() {
		return d.Errf("proxy_cache: storage redis: want a redis:// URL")
	}
	s.URL = d.Val()
	if !strings.Contains(s.URL, "{") {
		if _, err := parseRedisURL(s.URL); err != nil {
			return d.Errf("proxy_cache: storage %v", err)
		}
	}
	if d.NextArg() {
		return d.Errf("proxy_cache: storage redis: unexpected argument %q", d.Val())
	}
	for d.NextBlock(0) {
		opt := d.Val()
		args := d.RemainingArgs()
		if len(args) != 1 {
			return d.Errf("proxy_cache: storage redis: %s: want exactly one value", opt)
		}
		switch opt {
		case "prefix":
			s.Prefix = args[0]
		case "inactive", "timeout":
			dur, err := caddy.ParseDuration(args[0])
			if err != nil || dur <= 0 {
				return d.Errf("proxy_cache: storage redis: %s: %q is not a positive duration", opt, args[0])
			}
			if opt == "inactive" {
				s.Inactive = caddy.Duration(dur)
			} else {
				s.Timeout = caddy.Duration(dur)
			}
		case "pool_size":
			var n int
			if _, err := fmt.Sscanf(args[0], "%d", &n); err != nil || n < 1 || fmt.Sprint(n) != args[0] {
				return d.Errf("proxy_cache: storage redis: pool_size: %q is not a positive number", args[0])
			}
			s.PoolSize = n
		default:
			return d.Errf("proxy_cache: storage redis: unknown option %q", opt)
		}
	}
	return nil
}

// zoneID names the zone in stats and metrics, without the URL's password.
func (s *RedisStorage) zoneID() string {
	u := s.URL
	if pu, err := url.Parse(u); err == nil && pu.User != nil {
		pu.User = nil
		u = pu.String()
	}
	return "redis/" + u + "/" + s.Prefix
}

func (s *RedisStorage) entryKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return s.Prefix + "e:" + hex.EncodeToString(sum[:])
}

func (s *RedisStorage) urlKey(url string) string { return s.Prefix + "u:" + url }

func (s *RedisStorage) tagKey(tag string) string { return s.Prefix + "t:" + tag }

func (s *RedisStorage) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 4*time.Duration(s.Timeout))
}

// result records how a command begun at start went, for the log and the
// error counts, and returns its error (nil for redis.Nil, a successful
// answer).
func (s *RedisStorage) result(op storageOp, start time.Time, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		s.faults.succeeded(faultUnreachable, start)
		return nil
	}
	s.faults.failed(faultUnreachable, op, 1, start, err)
	return fmt.Errorf("redis: %w", err)
}

func (s *RedisStorage) storageFaults() *zoneFaults { return s.faults.z }

// Get implements Storage.
func (s *RedisStorage) Get(key string) ([]*Entry, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	start := time.Now()
	blob, err := s.client.GetEx(ctx, s.entryKey(key), time.Duration(s.Inactive)).Bytes()
	if err := s.result(opGet, start, err); err != nil || blob == nil {
		return nil, err
	}
	variants, err := decodeVariants(blob)
	if err != nil || len(variants) == 0 || variants[0].Key != key {
		s.client.Del(ctx, s.entryKey(key))
		return nil, nil
	}
	return variants, nil
}

// Put implements Storage. Concurrent writers of one key from several
// instances may drop each other's Vary variants; never a torn entry.
func (s *RedisStorage) Put(e *Entry) error {
	current, err := s.Get(e.Key)
	if err != nil {
		return err
	}
	blob := encodeVariants(putVariant(current, e))
	if len(blob) > redisMaxObject {
		return ErrTooLarge
	}
	ctx, cancel := s.ctx()
	defer cancel()
	inactive := time.Duration(s.Inactive)
	start := time.Now()
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.entryKey(e.Key), blob, inactive)
		if e.URL != "" {
			p.SAdd(ctx, s.urlKey(e.URL), e.Key)
			p.Expire(ctx, s.urlKey(e.URL), inactive)
		}
		for _, t := range entryTags(e) {
			p.SAdd(ctx, s.tagKey(t), e.Key)
			p.Expire(ctx, s.tagKey(t), inactive)
		}
		return nil
	})
	return s.result(opPut, start, err)
}

// Delete implements Storage.
func (s *RedisStorage) Delete(key string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	start := time.Now()
	return s.result(opPurge, start, s.client.Del(ctx, s.entryKey(key)).Err())
}

// PurgeURL implements Storage.
func (s *RedisStorage) PurgeURL(url string) (int, error) { return s.purgeSet(s.urlKey(url)) }

// PurgeTag implements Purger.
func (s *RedisStorage) PurgeTag(tag string) (int, error) { return s.purgeSet(s.tagKey(tag)) }

// purgeSet deletes the entries whose keys a URL or tag set holds, and the set.
func (s *RedisStorage) purgeSet(set string) (int, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	start := time.Now()
	keys, err := s.client.SMembers(ctx, set).Result()
	if err := s.result(opPurge, start, err); err != nil {
		return 0, err
	}
	del := []string{set}
	for _, k := range keys {
		del = append(del, s.entryKey(k))
	}
	if err := s.result(opPurge, start, s.client.Del(ctx, del...).Err()); err != nil {
		return 0, err
	}
	return len(keys), nil
}

// PurgePrefix implements Purger: every URL set under the prefix is found
// with SCAN.
func (s *RedisStorage) PurgePrefix(prefix string) (int, error) {
	n := 0
	err := s.scan(s.urlKey(globEscape(prefix))+"*", func(set string) error {
		m, err := s.purgeSet(set)
		n += m
		return err
	})
	return n, err
}

// Flush implements Purger: it deletes every Redis key under Prefix.
func (s *RedisStorage) Flush() error {
	return s.scan(globEscape(s.Prefix)+"*", func(k string) error {
		ctx, cancel := s.ctx()
		defer cancel()
		start := time.Now()
		return s.result(opPurge, start, s.client.Del(ctx, k).Err())
	})
}

func (s *RedisStorage) scan(match string, each func(string) error) error {
	var cursor uint64
	for {
		ctx, cancel := s.ctx()
		start := time.Now()
		keys, next, err := s.client.Scan(ctx, cursor, match, 500).Result()
		cancel()
		if err := s.result(opPurge, start, err); err != nil {
			return err
		}
		for _, k := range keys {
			if err := each(k); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// globEscape quotes the characters SCAN MATCH treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// MaxObjectSize implements Storage.
func (s *RedisStorage) MaxObjectSize() int64 { return redisMaxObject }

// Interface guards.
var (
	_ caddy.Provisioner     = (*RedisStorage)(nil)
	_ caddy.CleanerUpper    = (*RedisStorage)(nil)
	_ caddyfile.Unmarshaler = (*RedisStorage)(nil)
	_ faultReporter         = (*RedisStorage)(nil)
)
