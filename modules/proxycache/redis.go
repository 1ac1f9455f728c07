package proxycache

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	redisScanCount       = 500       // keys asked per SCAN call
)

// RedisStorage keeps entries in Redis, so several Frontdesk instances share
// one cache: one server, a Redis Cluster or a Sentinel-managed primary
// (Valkey speaks the same protocol). Each key's variants are one Redis
// string (the same encoding as the disk storage, with a CRC) that expires
// after Inactive without use; bounding memory is Redis's job (maxmemory
// with an LRU policy). Commands time out quickly: when Redis is
// unreachable, requests go to the origin uncached and a warning is logged
// once per outage, never an error to the client.
type RedisStorage struct {
	// URL locates a single server: redis://[user:password@]host:port[/db],
	// or rediss:// for TLS. Exactly one of URL, Cluster and Sentinel is
	// given.
	URL string `json:"url,omitempty"`

	// Cluster lists seed addresses (host:port) of a Redis Cluster; the
	// other nodes are discovered from them. Keys spread over the cluster's
	// primaries; purges by prefix and flushes scan every primary.
	Cluster []string `json:"cluster,omitempty"`

	// Sentinel locates a primary managed by Redis Sentinel; after a
	// failover the storage follows the new primary.
	Sentinel *RedisSentinel `json:"sentinel,omitempty"`

	// Username and Password authenticate to the data nodes (AUTH / ACL),
	// overriding those of URL. Placeholders such as {env.REDIS_PASSWORD}
	// are replaced.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`

	// DB selects the database of a single server or Sentinel primary (a
	// cluster has only 0). Default: the URL's, else 0.
	DB int `json:"db,omitempty"`

	// TLS, when present, encrypts every connection (to the data nodes and
	// to the sentinels). A rediss:// URL turns it on too.
	TLS *RedisTLS `json:"tls,omitempty"`

	// Prefix is put before every Redis key this storage uses. Default:
	// "frontdesk:proxy_cache:".
	Prefix string `json:"prefix,omitempty"`

	// Inactive is how long an entry lives in Redis without being used
	// (each hit extends it). Default: 10m.
	Inactive caddy.Duration `json:"inactive,omitempty"`

	// Timeout bounds each Redis command, dialing included. Default: 250ms.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// PoolSize is the number of pooled connections (per node on a
	// cluster). Default: go-redis's (10 per CPU).
	PoolSize int `json:"pool_size,omitempty"`

	// Local, when present, keeps a memory tier in this process in front
	// of Redis, kept coherent with the other instances' through Redis
	// pub/sub (see RedisLocal for the staleness bound).
	Local *RedisLocal `json:"local,omitempty"`

	client  redis.UniversalClient
	cluster *redis.ClusterClient // client, when it is one
	faults  *faultLog            // shared with the dialer
	local   *localTier           // Local, running
}

// CaddyModule returns the Caddy module information.
func (RedisStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.proxy_cache.storage.redis",
		New: func() caddy.Module { return new(RedisStorage) },
	}
}

// Provision builds the client. It does not connect: Redis being down at
// start is the same as Redis going down later.
func (s *RedisStorage) Provision(ctx caddy.Context) error {
	s.replacePlaceholders()
	topo, err := s.topology()
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
	if s.Inactive < 0 || s.Timeout < 0 || s.PoolSize < 0 || s.DB < 0 {
		return errors.New("redis storage: inactive, timeout, pool_size and db must be positive")
	}
	opts, err := s.universalOptions(topo)
	if err != nil {
		return err
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
	opts.Dialer = taggedDialer(&redis.Options{DialTimeout: t, TLSConfig: opts.TLSConfig}, s.faults)
	installRedisLogger.Do(func() { redis.SetLogger(redisLibLogger{}) })
	s.client = redis.NewUniversalClient(opts)
	s.cluster, _ = s.client.(*redis.ClusterClient)
	if s.Local != nil {
		if s.Local.MaxSize <= 0 || s.Local.Heartbeat < 0 {
			return errors.New("redis storage: local: max_size is required and heartbeat must be positive")
		}
		if s.Local.Heartbeat == 0 {
			s.Local.Heartbeat = caddy.Duration(defaultLocalHeartbeat)
		}
		s.local = newLocalTier(s.Local, time.Duration(s.Inactive), s.client, s.Prefix+"invalidations", ctx.Logger())
	}
	return nil
}

// Cleanup stops the local tier and closes the connection pool.
func (s *RedisStorage) Cleanup() error {
	if s.local != nil {
		s.local.stop()
	}
	if s.client == nil {
		return nil
	}
	return s.client.Close()
}

// Redis keys. An entry's variants are one string, so storing or reading
// an entry is one command on one key (one hash slot on a cluster); the URL
// and tag sets are indexes for purges, written before the entry they
// point to, so an entry is never stored without its index (a set member
// whose entry is gone costs nothing).
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
// answer). A failure on a cluster asks go-redis to reload the slot map,
// so that a replica promoted by a failover is found at once rather than
// at the next periodic reload.
func (s *RedisStorage) result(op storageOp, start time.Time, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		s.faults.succeeded(faultUnreachable, start)
		return nil
	}
	s.faults.failed(faultUnreachable, op, 1, start, err)
	if s.cluster != nil {
		s.cluster.ReloadState(context.Background())
	}
	return fmt.Errorf("redis: %w", err)
}

func (s *RedisStorage) storageFaults() *zoneFaults { return s.faults.z }

// Get implements Storage: from the local tier when it holds key, else
// from Redis (and then kept in the local tier).
func (s *RedisStorage) Get(key string) ([]*Entry, error) {
	if s.local == nil {
		return s.getShared(key)
	}
	if v := s.local.get(key, time.Now()); v != nil {
		return v, nil
	}
	gen := s.local.gen.Load()
	variants, err := s.getShared(key)
	if err == nil && variants != nil {
		s.local.fill(key, variants, gen)
	}
	return variants, err
}

// getShared reads key's variants from Redis.
func (s *RedisStorage) getShared(key string) ([]*Entry, error) {
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
	var gen uint64
	if s.local != nil {
		gen = s.local.gen.Load()
	}
	current, err := s.getShared(e.Key)
	if err != nil {
		return err
	}
	variants := putVariant(current, e)
	blob := encodeVariants(variants)
	if len(blob) > redisMaxObject {
		return ErrTooLarge
	}
	ctx, cancel := s.ctx()
	defer cancel()
	inactive := time.Duration(s.Inactive)
	sets := entryTags(e)
	for i, t := range sets {
		sets[i] = s.tagKey(t)
	}
	if e.URL != "" {
		sets = append(sets, s.urlKey(e.URL))
	}
	start := time.Now()
	if len(sets) > 0 {
		// The index first (each set its own slot on a cluster).
		_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, set := range sets {
				p.SAdd(ctx, set, e.Key)
				p.Expire(ctx, set, inactive)
			}
			return nil
		})
		if err := s.result(opPut, start, err); err != nil {
			return err
		}
	}
	if err := s.result(opPut, start, s.client.Set(ctx, s.entryKey(e.Key), blob, inactive).Err()); err != nil {
		return err
	}
	if s.local == nil {
		return nil
	}
	// The others drop the copy this replaces; this instance keeps the new
	// one, unless an invalidation came in meanwhile.
	err = s.result(opPut, start, s.local.announce(ctx, s.client, invKey, e.Key))
	s.local.fill(e.Key, variants, gen)
	return err
}

// invalidate applies a purge to the local tier, then to the other
// instances' (Redis was changed first).
func (s *RedisStorage) invalidate(kind byte, arg string) error {
	if s.local == nil {
		return nil
	}
	s.local.apply(kind, arg)
	ctx, cancel := s.ctx()
	defer cancel()
	start := time.Now()
	return s.result(opPurge, start, s.local.announce(ctx, s.client, kind, arg))
}

// Delete implements Storage.
func (s *RedisStorage) Delete(key string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	start := time.Now()
	if err := s.result(opPurge, start, s.client.Del(ctx, s.entryKey(key)).Err()); err != nil {
		return err
	}
	return s.invalidate(invKey, key)
}

// PurgeURL implements Storage.
func (s *RedisStorage) PurgeURL(url string) (int, error) {
	return s.purgeAndInvalidate(s.urlKey(url), invURL, url)
}

// PurgeTag implements Purger.
func (s *RedisStorage) PurgeTag(tag string) (int, error) {
	return s.purgeAndInvalidate(s.tagKey(tag), invTag, tag)
}

// purgeAndInvalidate is purgeSet, then the invalidation of the local tiers.
func (s *RedisStorage) purgeAndInvalidate(set string, kind byte, arg string) (int, error) {
	n, err := s.purgeSet(set)
	if err != nil {
		return n, err
	}
	return n, s.invalidate(kind, arg)
}

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
	if err := s.result(opPurge, start, s.del(ctx, del)); err != nil {
		return 0, err
	}
	return len(keys), nil
}

// del deletes keys, one DEL each in one pipeline: on a cluster the keys
// sit in different slots, and go-redis sends each to its primary.
func (s *RedisStorage) del(ctx context.Context, keys []string) error {
	if len(keys) == 1 {
		return s.client.Del(ctx, keys[0]).Err()
	}
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	return err
}

// PurgePrefix implements Purger: every URL set under the prefix is found
// with SCAN (on every primary of a cluster).
func (s *RedisStorage) PurgePrefix(prefix string) (int, error) {
	n := 0
	err := s.scan(s.urlKey(globEscape(prefix))+"*", func(sets []string) error {
		for _, set := range sets {
			m, err := s.purgeSet(set)
			n += m
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, s.invalidate(invPrefix, prefix)
}

// Flush implements Purger: it deletes every Redis key under Prefix (on
// every primary of a cluster).
func (s *RedisStorage) Flush() error {
	err := s.scan(globEscape(s.Prefix)+"*", func(keys []string) error {
		ctx, cancel := s.ctx()
		defer cancel()
		start := time.Now()
		return s.result(opPurge, start, s.del(ctx, keys))
	})
	if err != nil {
		return err
	}
	return s.invalidate(invFlush, "")
}

// scan calls each with every page of keys matching match: SCAN on the one
// server, or on every primary of a cluster (ForEachMaster), never KEYS.
// Pages from a cluster's primaries arrive one at a time.
func (s *RedisStorage) scan(match string, each func([]string) error) error {
	if s.cluster == nil {
		return s.scanNode(s.client, match, each)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	start := time.Now()
	var mu sync.Mutex
	var failed error // a node's own failure, already recorded
	err := s.cluster.ForEachMaster(ctx, func(_ context.Context, node *redis.Client) error {
		err := s.scanNode(node, match, func(keys []string) error {
			mu.Lock()
			defer mu.Unlock()
			return each(keys)
		})
		if err != nil {
			mu.Lock()
			failed = cmp.Or(failed, err)
			mu.Unlock()
		}
		return err
	})
	if failed != nil {
		return failed
	}
	return s.result(opPurge, start, err) // the slot map could not be loaded
}

// scanNode is scan on one server.
func (s *RedisStorage) scanNode(c redis.Cmdable, match string, each func([]string) error) error {
	var cursor uint64
	for {
		ctx, cancel := s.ctx()
		start := time.Now()
		keys, next, err := c.Scan(ctx, cursor, match, redisScanCount).Result()
		cancel()
		if err := s.result(opPurge, start, err); err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := each(keys); err != nil {
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
