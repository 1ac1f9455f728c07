package proxycache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// Defaults of the local tier.
const (
	defaultLocalHeartbeat = 250 * time.Millisecond
	// localSilentFor is how many heartbeats without a word from Redis
	// disable the local tier: the staleness bound is this many heartbeats.
	localSilentFor = 2
	// localResubscribeAfter is how many heartbeats without a word from
	// Redis drop the subscription for a new one.
	localResubscribeAfter = 8
)

// RedisLocal is a memory tier in front of the shared Redis: hits are
// served from this process's memory when the entry is there, fills and
// stores go to both, and every purge, invalidation and store that
// replaces an entry reaches the other instances' local tiers through
// Redis pub/sub. The local tier is used only while this instance's
// subscription is known to be alive: after 2 × Heartbeat without a word
// from Redis (a partition, a failover), hits go to Redis again (or pass
// through when it cannot answer), and the local tier is emptied when the
// subscription comes back. A purge on one instance therefore stops the
// others from serving the entry within one pub/sub delivery while they
// hear Redis, and within 2 × Heartbeat when they do not.
type RedisLocal struct {
	// MaxSize bounds the bytes the local tier holds (bodies, headers and
	// bookkeeping), least recently used out first. Required.
	MaxSize int64 `json:"max_size,omitempty"`

	// Heartbeat is how often the subscription is pinged when idle. The
	// local tier is not used once nothing was heard from Redis for two
	// heartbeats: the staleness bound under a silent partition. Default:
	// 250ms.
	Heartbeat caddy.Duration `json:"heartbeat,omitempty"`
}

// localTier is a RedisStorage's local memory tier and its subscription.
type localTier struct {
	store     *memStore
	id        string // this storage's name on the channel: its own messages are skipped
	channel   string
	heartbeat time.Duration
	logger    *zap.Logger

	// gen counts invalidations applied; a fill read from Redis is kept
	// only if none happened since the read began.
	gen       atomic.Uint64
	up        atomic.Bool  // subscribed
	lastHeard atomic.Int64 // Unix nanoseconds of the latest word from Redis

	cancel context.CancelFunc
	done   chan struct{}
}

// invalidation kinds, the byte after the sender's ID in a message.
const (
	invKey    = 'k' // a key was replaced or deleted
	invURL    = 'u' // a URL's entries were purged or invalidated
	invPrefix = 'p'
	invTag    = 't'
	invFlush  = 'f'
)

// localIDLen is the length of a sender ID on the channel (hex).
const localIDLen = 16

// encodeInvalidation is a message: sender ID, kind, argument.
func encodeInvalidation(id string, kind byte, arg string) string {
	return id + string(kind) + arg
}

// decodeInvalidation splits a message; ok is false when it is not one.
func decodeInvalidation(msg string) (id string, kind byte, arg string, ok bool) {
	if len(msg) < localIDLen+1 {
		return "", 0, "", false
	}
	id, kind, arg = msg[:localIDLen], msg[localIDLen], msg[localIDLen+1:]
	switch kind {
	case invKey, invURL, invPrefix, invTag:
		return id, kind, arg, arg != ""
	case invFlush:
		return id, kind, "", arg == ""
	}
	return "", 0, "", false
}

// newLocalTier starts a local tier subscribed to channel through client.
func newLocalTier(cfg *RedisLocal, inactive time.Duration, client redis.UniversalClient, channel string, logger *zap.Logger) *localTier {
	var idb [localIDLen / 2]byte
	_, _ = rand.Read(idb[:])
	l := &localTier{store: newMemStore(cfg.MaxSize, inactive), id: hex.EncodeToString(idb[:]), channel: channel,
		heartbeat: time.Duration(cfg.Heartbeat), logger: logger, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.listen(ctx, client)
	return l
}

// stop ends the subscription and frees the store.
func (l *localTier) stop() {
	l.cancel()
	<-l.done
	_ = l.store.Destruct()
}

// usable reports whether the local tier may answer at now: subscribed,
// and Redis heard from within the staleness bound.
func (l *localTier) usable(now time.Time) bool {
	return l.up.Load() && now.UnixNano()-l.lastHeard.Load() <= int64(localSilentFor*l.heartbeat)
}

// stats reports what the tier holds and whether it answers.
func (l *localTier) stats() *LocalTierStats {
	keys, bytes := l.store.stats()
	return &LocalTierStats{Objects: keys, Bytes: bytes, Usable: l.usable(time.Now())}
}

// get returns the local variants of key, if the tier may answer.
func (l *localTier) get(key string, now time.Time) []*Entry {
	if !l.usable(now) {
		return nil
	}
	return l.store.get(key, now)
}

// localHit answers the hit path from a redis storage's local tier, as
// the memory storage's getAt does: the key is looked up in its byte
// buffer, without allocating. nil means ask the storage.
func (h *Handler) localHit(key []byte, now time.Time) []*Entry {
	rs, ok := h.storage.(*RedisStorage)
	if !ok || rs.local == nil || !rs.local.usable(now) {
		return nil
	}
	return rs.local.store.getBytes(key, now)
}

// fill keeps variants read from Redis (or just stored there) under key,
// unless an invalidation was applied since gen was read.
func (l *localTier) fill(key string, variants []*Entry, gen uint64) {
	now := time.Now()
	if !l.usable(now) || l.gen.Load() != gen {
		return
	}
	l.store.replace(key, variants, now)
}

// apply carries out an invalidation on the local store.
func (l *localTier) apply(kind byte, arg string) {
	l.gen.Add(1)
	switch kind {
	case invKey:
		l.store.delete(arg)
	case invURL:
		l.store.purgeURL(arg)
	case invPrefix:
		l.store.purgePrefix(arg)
	case invTag:
		l.store.purgeTag(arg)
	case invFlush:
		l.store.flush()
	}
}

// drop empties the local tier: its copies may have missed invalidations.
func (l *localTier) drop() { l.apply(invFlush, "") }

// announce tells the other instances' local tiers about an invalidation
// (or a store that replaces key). The caller has changed Redis and its own
// local tier first, so that no fill from Redis can bring back what it
// removed.
func (l *localTier) announce(ctx context.Context, client redis.UniversalClient, kind byte, arg string) error {
	return client.Publish(ctx, l.channel, encodeInvalidation(l.id, kind, arg)).Err()
}

// listen receives invalidations until ctx ends, pinging the subscription
// every heartbeat while idle and making a new one when it stays silent.
func (l *localTier) listen(ctx context.Context, client redis.UniversalClient) {
	defer close(l.done)
	for ctx.Err() == nil {
		ps := client.Subscribe(ctx, l.channel)
		l.receive(ctx, ps)
		_ = ps.Close()
		l.lost()
		select {
		case <-ctx.Done():
		case <-time.After(l.heartbeat):
		}
	}
}

// receive handles one subscription until it fails or stays silent.
func (l *localTier) receive(ctx context.Context, ps *redis.PubSub) {
	for {
		msg, err := ps.ReceiveTimeout(ctx, l.heartbeat)
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return // the connection failed; a new subscription follows
			}
			if l.up.Load() && now.UnixNano()-l.lastHeard.Load() > int64(localResubscribeAfter*l.heartbeat) {
				return // silent too long: a partition
			}
			if err := ps.Ping(ctx); err != nil && ctx.Err() == nil {
				return
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				// (Re)subscribed: what was published meanwhile is lost.
				l.drop()
				l.lastHeard.Store(now.UnixNano())
				if !l.up.Swap(true) {
					l.logger.Debug("local tier subscribed", zap.String("channel", l.channel))
				}
			}
		case *redis.Pong:
			l.lastHeard.Store(now.UnixNano())
		case *redis.Message:
			l.lastHeard.Store(now.UnixNano())
			id, kind, arg, ok := decodeInvalidation(m.Payload)
			if ok && id != l.id {
				l.apply(kind, arg)
			}
		}
	}
}

// lost marks the subscription down: the local tier is not used until a
// new one is confirmed (and it is emptied then).
func (l *localTier) lost() {
	if l.up.Swap(false) {
		l.drop()
		l.logger.Debug("local tier unsubscribed; hits go to Redis until it is back", zap.String("channel", l.channel))
	}
}
