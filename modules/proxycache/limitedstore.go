package proxycache

import (
	"fmt"
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
