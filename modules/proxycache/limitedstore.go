package proxycache

import (
	"container/list"
	"fmt"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
)

// limitedStore is the live store behind a memory or disk storage: bounded
// by max_size and inactive (nginx's proxy_cache_path), and shared through a
// caddy.UsagePool by every config that names it, so its contents survive
// config reloads (the new config takes a reference before the old one drops
// its own).
type limitedStore interface {
	caddy.Destructor
	// configure applies the limits of the config provisioned last.
	configure(maxSize int64, inactive time.Duration)
}

// storeCore is what the memory and disk stores share: their entries in
// least-recently-used order with the index of their URLs and tags, their
// size and limits, and the janitor that expires entries unused for longer
// than inactive.
type storeCore struct {
	mu       sync.Mutex // guards the fields below and what the store keeps with them
	ll       *list.List // the store's entries, most recently used first
	items    map[string]*list.Element
	ix       index
	size     int64
	max      int64
	inactive time.Duration
	stop     chan struct{}
	stopOnce sync.Once
}

// initCore makes an empty core with the given limits.
func (c *storeCore) initCore(max int64, inactive time.Duration) {
	c.ll, c.items, c.ix = list.New(), map[string]*list.Element{}, newIndex()
	c.max, c.inactive = max, inactive
	c.stop = make(chan struct{})
}

// janitor calls expire every half of inactive (at least 100ms, at most a
// minute) until Destruct.
func (c *storeCore) janitor(expire func(now time.Time)) {
	for {
		c.mu.Lock()
		every := min(max(c.inactive/2, 100*time.Millisecond), time.Minute)
		c.mu.Unlock()
		select {
		case <-c.stop:
			return
		case now := <-time.After(every):
			expire(now)
		}
	}
}

// Destruct stops the janitor when the last config using the store is gone.
func (c *storeCore) Destruct() error {
	c.stopOnce.Do(func() { close(c.stop) })
	return nil
}

func (c *storeCore) maxSize() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// stats returns the number of keys and bytes held.
func (c *storeCore) stats() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.size
}

// attachStore takes a config's reference to the store under key in pool,
// opening it with open when no config holds it, and applies the config's
// limits to it.
func attachStore[S limitedStore](pool *caddy.UsagePool, key string, maxSize int64, inactive caddy.Duration, open func() S) (S, error) {
	v, _, err := pool.LoadOrNew(key, func() (caddy.Destructor, error) { return open(), nil })
	if err != nil {
		var none S
		return none, err
	}
	s := v.(S)
	s.configure(maxSize, time.Duration(inactive))
	return s, nil
}

// detachStore drops a config's reference to the store under key, if
// attachStore gave it one.
func detachStore(pool *caddy.UsagePool, key string, attached bool) error {
	if !attached {
		return nil
	}
	_, err := pool.Delete(key)
	return err
}

// applyLimits fills in a storage's max_size and inactive defaults and
// checks them; kind names the storage in the error ("disk", "memory").
func applyLimits(kind string, maxSize *int64, inactive *caddy.Duration, defMax int64, defInactive time.Duration) error {
	if *maxSize == 0 {
		*maxSize = defMax
	}
	if *inactive == 0 {
		*inactive = caddy.Duration(defInactive)
	}
	if *maxSize < 0 || *inactive < 0 {
		return fmt.Errorf("%s storage: max_size and inactive must be positive", kind)
	}
	return nil
}

// unmarshalLimits reads the block of a memory or disk storage (kind), whose
// options take one value each: max_size and inactive, and those that other
// reports it knows (other may be nil).
func unmarshalLimits(d *caddyfile.Dispenser, kind string, maxSize *int64, inactive *caddy.Duration, other func(opt, arg string) bool) error {
	for d.NextBlock(0) {
		opt := d.Val()
		args := d.RemainingArgs()
		if len(args) != 1 {
			return d.Errf("proxy_cache: storage %s: %s: want exactly one value", kind, opt)
		}
		if other != nil && other(opt, args[0]) {
			continue
		}
		if ok, err := parseLimit(d, kind, opt, args[0], maxSize, inactive); err != nil {
			return err
		} else if !ok {
			return d.Errf("proxy_cache: storage %s: unknown option %q", kind, opt)
		}
	}
	return nil
}

// parseLimit reads a storage block's max_size or inactive option (one value
// in arg); it reports false for any other option.
func parseLimit(d *caddyfile.Dispenser, kind, opt, arg string, maxSize *int64, inactive *caddy.Duration) (bool, error) {
	switch opt {
	case "max_size":
		n, err := caddyopt.ParseSize(arg)
		if err != nil || n <= 0 {
			return true, d.Errf("proxy_cache: storage %s: max_size: %q is not a size (e.g. 512k, 100m, 1g)", kind, arg)
		}
		*maxSize = n
	case "inactive":
		dur, err := caddy.ParseDuration(arg)
		if err != nil || dur <= 0 {
			return true, d.Errf("proxy_cache: storage %s: inactive: %q is not a positive duration", kind, arg)
		}
		*inactive = caddy.Duration(dur)
	default:
		return false, nil
	}
	return true, nil
}
