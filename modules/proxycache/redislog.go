package proxycache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// go-redis prints its own messages ("redis: connection pool: failed to dial
// after 5 attempts: ...") as plain text on stderr through a process-global
// logger, dozens a second while Redis is down. redisLibLogger takes its
// place, once per process: a message that names a storage's dial error
// joins that storage's episode (it opens it if none is open, and is a debug
// line otherwise); any other message is a warning at most once per
// faultWarnEvery, and a debug line otherwise.

// installRedisLogger puts redisLibLogger in go-redis, once per process.
var installRedisLogger sync.Once

// redisLibLogger is go-redis's logger (redis.SetLogger). It holds no
// state of a config or storage: what it needs travels in the messages'
// errors (redisDialError), so it serves every handler, storage and reload.
type redisLibLogger struct{}

// redisLibLastWarn is when the latest unattributed message was a warning
// (Unix nanoseconds).
var redisLibLastWarn atomic.Int64

// Printf implements go-redis's internal.Logging.
func (redisLibLogger) Printf(_ context.Context, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	for _, a := range v {
		var de *redisDialError
		if err, ok := a.(error); ok && errors.As(err, &de) {
			de.faults.note(faultUnreachable, "go-redis: "+msg)
			return
		}
	}
	logger := caddy.Log().Named("http.handlers.proxy_cache.storage.redis")
	now := time.Now().UnixNano()
	last := redisLibLastWarn.Load()
	if now-last >= int64(faultWarnEvery) && redisLibLastWarn.CompareAndSwap(last, now) {
		logger.Warn("go-redis: "+msg, zap.String("source", "go-redis"))
		return
	}
	logger.Debug("go-redis: "+msg, zap.String("source", "go-redis"))
}

// redisDialError is a failed dial of one storage's connection pool: it
// tells redisLibLogger whose outage go-redis is talking about.
type redisDialError struct {
	err    error
	faults *faultLog
}

func (e *redisDialError) Error() string { return e.err.Error() }
func (e *redisDialError) Unwrap() error { return e.err }

// taggedDialer wraps go-redis's own dialer for opts so that its errors
// carry the storage's faults.
func taggedDialer(opts *redis.Options, faults *faultLog) func(context.Context, string, string) (net.Conn, error) {
	dial := redis.NewDialer(opts)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, &redisDialError{err: err, faults: faults}
		}
		return c, nil
	}
}
