package proxycache

import (
	"container/list"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func init() {
	caddy.RegisterModule(MemoryStorage{})
}

// Defaults of the memory storage.
const (
	defaultMemoryMaxSize  = 256 << 20
	defaultMemoryInactive = 10 * time.Minute
	defaultZone           = "default"
)

// memoryPool holds the live stores by zone name (see limitedStore).
var memoryPool = caddy.NewUsagePool()

// MemoryStorage keeps entries in this process's memory, bounded by bytes,
// evicting the least recently used entry first and any entry unused for
// longer than Inactive (nginx's proxy_cache_path max_size and inactive).
// Bodies are kept exactly as the origin sent them: a hit copies no more than
// the header.
type MemoryStorage struct {
	// Zone names the store (nginx's keys_zone). Handlers naming the same zone
	// share one store, and a store lives on across config reloads as long as
	// some handler names it. When several handlers configure one zone
	// differently, the most recently provisioned limits apply. Default:
	// "default".
	Zone string `json:"zone,omitempty"`

	// MaxSize bounds the bytes held (bodies, headers and bookkeeping).
	// Default: 256 MiB.
	MaxSize int64 `json:"max_size,omitempty"`

	// Inactive removes an entry that has not been used for this long, fresh
	// or not (nginx's inactive). Default: 10m.
	Inactive caddy.Duration `json:"inactive,omitempty"`

	store *memStore
}

// CaddyModule returns the Caddy module information.
func (MemoryStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.proxy_cache.storage.memory",
		New: func() caddy.Module { return new(MemoryStorage) },
	}
}

// Provision attaches to the zone's live store, creating it if needed.
func (m *MemoryStorage) Provision(caddy.Context) error {
	if m.Zone == "" {
		m.Zone = defaultZone
	}
	if err := applyLimits("memory", &m.MaxSize, &m.Inactive, defaultMemoryMaxSize, defaultMemoryInactive); err != nil {
		return err
	}
	store, err := attachStore(memoryPool, m.Zone, m.MaxSize, m.Inactive, func() *memStore {
		return newMemStore(m.MaxSize, time.Duration(m.Inactive))
	})
	m.store = store
	return err
}

// Cleanup drops this config's reference to the zone's store.
func (m *MemoryStorage) Cleanup() error {
	return detachStore(memoryPool, m.Zone, m.store != nil)
}

// UnmarshalCaddyfile reads
//
//	memory {
//	    zone <name>
//	    max_size <size>
//	    inactive <duration>
//	}
func (m *MemoryStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if d.NextArg() {
		return d.Errf("proxy_cache: storage memory: unexpected argument %q", d.Val())
	}
	return unmarshalLimits(d, "memory", &m.MaxSize, &m.Inactive, func(opt, arg string) bool {
		if opt == "zone" {
			m.Zone = arg
		}
		return opt == "zone"
	})
}

func (m *MemoryStorage) zoneID() string { return "memory/" + m.Zone }

// Get implements Storage.
func (m *MemoryStorage) Get(key string) ([]*Entry, error) { return m.store.get(key, time.Now()), nil }

// getAt is Get for a key built in a byte buffer, at a time the caller
// already read: the hit path neither allocates the key nor reads the clock
// again.
func (m *MemoryStorage) getAt(key []byte, now time.Time) []*Entry { return m.store.getBytes(key, now) }

// Put implements Storage.
func (m *MemoryStorage) Put(e *Entry) error { return m.store.put(e, time.Now()) }

// Delete implements Storage.
func (m *MemoryStorage) Delete(key string) error { m.store.delete(key); return nil }

// PurgeURL implements Storage.
func (m *MemoryStorage) PurgeURL(url string) (int, error) { return m.store.purgeURL(url), nil }

// PurgePrefix implements Purger.
func (m *MemoryStorage) PurgePrefix(prefix string) (int, error) {
	return m.store.purgePrefix(prefix), nil
}

// PurgeTag implements Purger.
func (m *MemoryStorage) PurgeTag(tag string) (int, error) { return m.store.purgeTag(tag), nil }

// Flush implements Purger.
func (m *MemoryStorage) Flush() error { m.store.flush(); return nil }

// MaxObjectSize implements Storage.
func (m *MemoryStorage) MaxObjectSize() int64 { return m.store.maxSize() }

// Stats returns the number of keys and bytes held.
func (m *MemoryStorage) Stats() (keys int, bytes int64) { return m.store.stats() }

// memStore is one zone's contents: a *memBucket per key in ll.
type memStore struct {
	storeCore
}

type memBucket struct {
	key      string
	variants []*Entry
	size     int64
	lastUse  time.Time
}

func newMemStore(max int64, inactive time.Duration) *memStore {
	s := &memStore{}
	s.initCore(max, inactive)
	go s.janitor(s.expire)
	return s
}

func (s *memStore) configure(max int64, inactive time.Duration) {
	s.mu.Lock()
	s.max, s.inactive = max, inactive
	s.evictLocked()
	s.mu.Unlock()
}

func (s *memStore) get(key string, now time.Time) []*Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[key]
	if !ok {
		return nil
	}
	b := el.Value.(*memBucket)
	if now.Sub(b.lastUse) > s.inactive {
		s.removeLocked(el)
		return nil
	}
	b.lastUse = now
	s.ll.MoveToFront(el)
	return b.variants
}

// getBytes is get for a key held in a byte slice.
func (s *memStore) getBytes(key []byte, now time.Time) []*Entry {
	s.mu.Lock()
	el, ok := s.items[string(key)] // no allocation: a map index with a converted key
	if !ok {
		s.mu.Unlock()
		return nil
	}
	b := el.Value.(*memBucket)
	if now.Sub(b.lastUse) > s.inactive {
		s.removeLocked(el)
		s.mu.Unlock()
		return nil
	}
	b.lastUse = now
	s.ll.MoveToFront(el)
	variants := b.variants
	s.mu.Unlock()
	return variants
}

func (s *memStore) put(e *Entry, now time.Time) error {
	size := e.Size()
	s.mu.Lock()
	defer s.mu.Unlock()
	if size > s.max {
		return ErrTooLarge
	}
	if el, ok := s.items[e.Key]; ok {
		b := el.Value.(*memBucket)
		for _, v := range b.variants {
			s.unindexLocked(v)
		}
		b.variants = putVariant(b.variants, e)
		s.size -= b.size
		b.size = 0
		for _, v := range b.variants {
			b.size += v.Size()
			s.indexLocked(v)
		}
		s.size += b.size
		b.lastUse = now
		s.ll.MoveToFront(el)
	} else {
		b := &memBucket{key: e.Key, variants: []*Entry{e}, size: size, lastUse: now}
		s.items[e.Key] = s.ll.PushFront(b)
		s.size += size
		s.indexLocked(e)
	}
	s.evictLocked()
	return nil
}

// replace sets key's variants to exactly variants (a copy read from a
// shared storage).
func (s *memStore) replace(key string, variants []*Entry, now time.Time) {
	var size int64
	for _, v := range variants {
		size += v.Size()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.removeLocked(el)
	}
	if size > s.max || len(variants) == 0 {
		return
	}
	b := &memBucket{key: key, variants: variants, size: size, lastUse: now}
	s.items[key] = s.ll.PushFront(b)
	s.size += size
	for _, v := range variants {
		s.indexLocked(v)
	}
	s.evictLocked()
}

func (s *memStore) delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.removeLocked(el)
	}
}

func (s *memStore) purgeURL(url string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeKeysLocked(s.ix.keysOf(s.ix.urls, url))
}

func (s *memStore) purgePrefix(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeKeysLocked(s.ix.keysWithPrefix(prefix))
}

func (s *memStore) purgeTag(tag string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeKeysLocked(s.ix.keysOf(s.ix.tags, tag))
}

func (s *memStore) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ll.Init()
	s.items = map[string]*list.Element{}
	s.ix = newIndex()
	s.size = 0
}

func (s *memStore) removeKeysLocked(keys []string) int {
	n := 0
	for _, k := range keys {
		if el, ok := s.items[k]; ok {
			s.removeLocked(el)
			n++
		}
	}
	return n
}

func (s *memStore) indexLocked(e *Entry) { s.ix.add(e) }

func (s *memStore) unindexLocked(e *Entry) { s.ix.remove(e) }

func (s *memStore) removeLocked(el *list.Element) {
	b := el.Value.(*memBucket)
	for _, v := range b.variants {
		s.unindexLocked(v)
	}
	s.ll.Remove(el)
	delete(s.items, b.key)
	s.size -= b.size
}

// evictLocked drops least recently used buckets until the store fits.
func (s *memStore) evictLocked() {
	for s.size > s.max {
		el := s.ll.Back()
		if el == nil {
			return
		}
		s.removeLocked(el)
	}
}

// expire drops buckets unused for longer than inactive.
func (s *memStore) expire(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		el := s.ll.Back()
		if el == nil || now.Sub(el.Value.(*memBucket).lastUse) <= s.inactive {
			return
		}
		s.removeLocked(el)
	}
}
