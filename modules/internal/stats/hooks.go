package stats

// PurgeRequest asks the cache to remove entries: exactly one of Key, URL,
// Prefix and Tag, in Zone (every zone when empty).
type PurgeRequest struct {
	// Zone is a zone name as the cache section shows it; empty: every zone.
	Zone string `json:"zone,omitempty"`
	// Key is one cache key.
	Key string `json:"key,omitempty"`
	// URL removes the entries of one URL (every variant).
	URL string `json:"url,omitempty"`
	// Prefix removes the entries of every URL that starts with it.
	Prefix string `json:"prefix,omitempty"`
	// Tag removes every entry stored with this tag (Cache-Tag).
	Tag string `json:"tag,omitempty"`
}

// Purger carries out a purge and returns how many entries it removed. The
// error of a request it refuses (bad fields, unknown zone) is a
// BadRequest.
type Purger func(PurgeRequest) (int, error)

// BadRequest is an error in what the caller asked for, not in the cache.
type BadRequest struct{ Msg string }

func (e BadRequest) Error() string { return e.Msg }

// SetPurger sets the cache's purge hook (proxy_cache calls it from init).
func SetPurger(p Purger) {
	registry.Lock()
	defer registry.Unlock()
	registry.purger = p
}

// Purge carries out req through the registered purger; ok is false when
// no module registered one.
func Purge(req PurgeRequest) (n int, ok bool, err error) {
	registry.RLock()
	p := registry.purger
	registry.RUnlock()
	if p == nil {
		return 0, false, nil
	}
	n, err = p(req)
	return n, true, err
}

// NameResolver says how the DNS app answers a host name locally: the
// addresses it gives (empty when it does not answer the name itself).
type NameResolver func(host string) []string

// SetNameResolver sets the DNS app's hook (dnsmasq calls it from init).
func SetNameResolver(r NameResolver) {
	registry.Lock()
	defer registry.Unlock()
	registry.resolver = r
}

// ResolveLocal asks the DNS app how it answers host; ok is false when no
// DNS app registered a resolver.
func ResolveLocal(host string) (addrs []string, ok bool) {
	registry.RLock()
	r := registry.resolver
	registry.RUnlock()
	if r == nil {
		return nil, false
	}
	return r(host), true
}

// Pooled is implemented by reverse_proxy upstream sources that belong to
// a named pool (healthgate), for the dashboard's site map.
type Pooled interface {
	// StatsPool is the pool's name as the upstreams section shows it.
	StatsPool() string
}

// Zoned is implemented by handlers that cache in a named zone
// (proxy_cache), for the dashboard's site map.
type Zoned interface {
	// StatsZone is the zone's name as the cache section shows it.
	StatsZone() string
}
