package proxycache

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(DiskStorage{})
}

// Defaults of the disk storage.
const (
	defaultDiskMaxSize  = 1 << 30
	defaultDiskInactive = 10 * time.Minute
)

// diskPool holds the live stores by directory, so the index survives
// config reloads.
var diskPool = caddy.NewUsagePool()

// DiskStorage keeps entries as files in a directory, like nginx's
// proxy_cache_path: one file per key (all its Vary variants), named by the
// SHA-256 of the key under a two-level fan-out. Files are written to a
// temporary name and renamed into place, and each carries a CRC, so a crash
// never leaves a torn entry that would be served. Entries survive restarts:
// the directory is indexed in the background at start.
type DiskStorage struct {
	// Path is the cache directory. It is created if needed and must be
	// writable. Required.
	Path string `json:"path,omitempty"`

	// MaxSize bounds the bytes of the files kept; the least recently used
	// go first. Default: 1 GiB.
	MaxSize int64 `json:"max_size,omitempty"`

	// Inactive removes an entry not used for this long. Default: 10m.
	Inactive caddy.Duration `json:"inactive,omitempty"`

	store *diskStore
	key   string
}

// CaddyModule returns the Caddy module information.
func (DiskStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.proxy_cache.storage.disk",
		New: func() caddy.Module { return new(DiskStorage) },
	}
}

// Provision opens (or shares) the directory's store.
func (s *DiskStorage) Provision(ctx caddy.Context) error {
	if s.Path == "" {
		return errors.New("disk storage: path is required")
	}
	abs, err := filepath.Abs(s.Path)
	if err != nil {
		return fmt.Errorf("disk storage: %v", err)
	}
	if err := applyLimits("disk", &s.MaxSize, &s.Inactive, defaultDiskMaxSize, defaultDiskInactive); err != nil {
		return err
	}
	if err := checkWritableDir(abs); err != nil {
		return fmt.Errorf("disk storage: %v", err)
	}
	logger := ctx.Logger()
	v, _, err := diskPool.LoadOrNew(abs, func() (caddy.Destructor, error) {
		return newDiskStore(abs, s.MaxSize, time.Duration(s.Inactive), logger), nil
	})
	if err != nil {
		return err
	}
	s.key = abs
	s.store = v.(*diskStore)
	s.store.configure(s.MaxSize, time.Duration(s.Inactive))
	return nil
}

// Cleanup drops this config's reference to the store.
func (s *DiskStorage) Cleanup() error {
	if s.store == nil {
		return nil
	}
	_, err := diskPool.Delete(s.key)
	return err
}

// checkWritableDir creates dir if needed and proves it writable.
func checkWritableDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return fmt.Errorf("cannot create the cache directory: %v", err)
	}
	f, err := os.CreateTemp(filepath.Join(dir, "tmp"), "probe-")
	if err != nil {
		return fmt.Errorf("the cache directory is not writable: %v", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// UnmarshalCaddyfile reads
//
//	disk <path> {
//	    max_size <size>
//	    inactive <duration>
//	}
func (s *DiskStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // module name
	if !d.NextArg() {
		return d.Errf("proxy_cache: storage disk: want a directory path")
	}
	s.Path = d.Val()
	if d.NextArg() {
		return d.Errf("proxy_cache: storage disk: unexpected argument %q", d.Val())
	}
	if err := parentWritable(s.Path); err != nil {
		return d.Errf("proxy_cache: storage disk: %q: %v", s.Path, err)
	}
	for d.NextBlock(0) {
		opt := d.Val()
		args := d.RemainingArgs()
		if len(args) != 1 {
			return d.Errf("proxy_cache: storage disk: %s: want exactly one value", opt)
		}
		if ok, err := parseLimit(d, "disk", opt, args[0], &s.MaxSize, &s.Inactive); err != nil {
			return err
		} else if !ok {
			return d.Errf("proxy_cache: storage disk: unknown option %q", opt)
		}
	}
	return nil
}

// parentWritable checks, without creating anything, that path is a
// directory or can become one: its nearest existing ancestor is a
// directory we may write into.
func parentWritable(path string) error {
	if strings.Contains(path, "{") {
		return nil // a placeholder, resolved later
	}
	p, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	for {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", p)
			}
			if fi.Mode().Perm()&0o222 == 0 {
				return fmt.Errorf("%s is not writable", p)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
}

func (s *DiskStorage) zoneID() string { return "disk/" + s.key }

// Get implements Storage.
func (s *DiskStorage) Get(key string) ([]*Entry, error) { return s.store.get(key, time.Now()) }

// Put implements Storage.
func (s *DiskStorage) Put(e *Entry) error { return s.store.put(e, time.Now()) }

// Delete implements Storage.
func (s *DiskStorage) Delete(key string) error { return s.store.delete(key) }

// PurgeURL implements Storage.
func (s *DiskStorage) PurgeURL(url string) (int, error) { return s.store.purgeURL(url), nil }

// PurgePrefix implements Purger.
func (s *DiskStorage) PurgePrefix(prefix string) (int, error) {
	return s.store.purgePrefix(prefix), nil
}

// PurgeTag implements Purger.
func (s *DiskStorage) PurgeTag(tag string) (int, error) { return s.store.purgeTag(tag), nil }

// Flush implements Purger.
func (s *DiskStorage) Flush() error { s.store.flush(); return nil }

// MaxObjectSize implements Storage.
func (s *DiskStorage) MaxObjectSize() int64 { return s.store.maxSize() }

// Stats returns the number of keys and bytes held.
func (s *DiskStorage) Stats() (int, int64) { return s.store.stats() }

// diskStore is one directory's index.
type diskStore struct {
	dir    string
	logger *zap.Logger

	mu       sync.Mutex
	ll       *list.List // of *diskItem, most recently used first
	items    map[string]*list.Element
	ix       index
	size     int64
	max      int64
	inactive time.Duration
	stop     chan struct{}
	once     sync.Once
	writeMu  sync.Mutex // serialises writers of one variant list (read-modify-write)
}

type diskItem struct {
	key        string
	urls, tags []string // of all variants, for the purge index
	file       string
	size       int64
	lastUse    time.Time
}

func newDiskItem(file string, variants []*Entry, size int64, lastUse time.Time) *diskItem {
	it := &diskItem{key: variants[0].Key, file: file, size: size, lastUse: lastUse}
	for _, v := range variants {
		it.urls = append(it.urls, v.URL)
		it.tags = append(it.tags, entryTags(v)...)
	}
	return it
}

func newDiskStore(dir string, max int64, inactive time.Duration, logger *zap.Logger) *diskStore {
	s := &diskStore{dir: dir, logger: logger, ll: list.New(), items: map[string]*list.Element{},
		ix: newIndex(), max: max, inactive: inactive, stop: make(chan struct{})}
	s.load()
	go s.janitor()
	return s
}

// Destruct stops the janitor.
func (s *diskStore) Destruct() error {
	s.once.Do(func() { close(s.stop) })
	return nil
}

func (s *diskStore) configure(max int64, inactive time.Duration) {
	s.mu.Lock()
	s.max, s.inactive = max, inactive
	victims := s.evictLocked()
	s.mu.Unlock()
	removeFiles(victims)
}

func (s *diskStore) maxSize() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

func (s *diskStore) stats() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items), s.size
}

// fileFor is the path of key's file: <dir>/<h[62:64]>/<h[60:62]>/<h>, nginx's levels=1:2 spirit.
func (s *diskStore) fileFor(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(s.dir, h[62:], h[60:62], h)
}

// load indexes the files already in the directory (entries from before a
// restart). Files that do not decode are removed.
func (s *diskStore) load() {
	var victims []string
	_ = filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if path == filepath.Join(s.dir, "tmp") {
				os.RemoveAll(path) // leftovers of interrupted writes
				os.MkdirAll(path, 0o700)
				return fs.SkipDir
			}
			return nil
		}
		blob, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		variants, err := decodeVariants(blob)
		if err != nil || len(variants) == 0 || s.fileFor(variants[0].Key) != path {
			victims = append(victims, path)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		s.mu.Lock()
		if _, dup := s.items[variants[0].Key]; !dup {
			s.indexLocked(newDiskItem(path, variants, int64(len(blob)), info.ModTime()))
		}
		s.mu.Unlock()
		return nil
	})
	s.mu.Lock()
	victims = append(victims, s.evictLocked()...)
	s.mu.Unlock()
	removeFiles(victims)
}

func (s *diskStore) get(key string, now time.Time) ([]*Entry, error) {
	file := s.fileFor(key)
	s.mu.Lock()
	el, ok := s.items[key]
	if ok {
		it := el.Value.(*diskItem)
		if now.Sub(it.lastUse) > s.inactive {
			s.removeLocked(el)
			s.mu.Unlock()
			os.Remove(file)
			return nil, nil
		}
		it.lastUse = now
		s.ll.MoveToFront(el)
	}
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	blob, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.forget(key)
			return nil, nil
		}
		return nil, err
	}
	variants, err := decodeVariants(blob)
	if err != nil || len(variants) == 0 || variants[0].Key != key {
		s.logger.Warn("removing a corrupt cache file", zap.String("file", file), zap.Error(err))
		s.forget(key)
		os.Remove(file)
		return nil, nil
	}
	return variants, nil
}

func (s *diskStore) put(e *Entry, now time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	current, _ := s.get(e.Key, now)
	variants := putVariant(current, e)
	blob := encodeVariants(variants)
	if int64(len(blob)) > s.maxSize() {
		return ErrTooLarge
	}
	file := s.fileFor(e.Key)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "w-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(blob); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	s.mu.Lock()
	if el, ok := s.items[e.Key]; ok {
		s.removeLocked(el)
	}
	s.indexLocked(newDiskItem(file, variants, int64(len(blob)), now))
	victims := s.evictLocked()
	s.mu.Unlock()
	removeFiles(victims)
	return nil
}

func (s *diskStore) delete(key string) error {
	s.forget(key)
	err := os.Remove(s.fileFor(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (s *diskStore) forget(key string) {
	s.mu.Lock()
	if el, ok := s.items[key]; ok {
		s.removeLocked(el)
	}
	s.mu.Unlock()
}

func (s *diskStore) purgeURL(url string) int {
	return s.removeKeys(func() []string { return s.ix.keysOf(s.ix.urls, url) })
}

func (s *diskStore) purgePrefix(prefix string) int {
	return s.removeKeys(func() []string { return s.ix.keysWithPrefix(prefix) })
}

func (s *diskStore) purgeTag(tag string) int {
	return s.removeKeys(func() []string { return s.ix.keysOf(s.ix.tags, tag) })
}

func (s *diskStore) flush() {
	s.removeKeys(func() []string {
		keys := make([]string, 0, len(s.items))
		for k := range s.items {
			keys = append(keys, k)
		}
		return keys
	})
}

// removeKeys unindexes the keys chosen under the lock and removes their
// files.
func (s *diskStore) removeKeys(choose func() []string) int {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	var files []string
	for _, k := range choose() {
		if el, ok := s.items[k]; ok {
			files = append(files, el.Value.(*diskItem).file)
			s.removeLocked(el)
		}
	}
	s.mu.Unlock()
	removeFiles(files)
	return len(files)
}

func (s *diskStore) indexLocked(it *diskItem) {
	s.items[it.key] = s.ll.PushFront(it)
	s.size += it.size
	for _, u := range it.urls {
		addTo(s.ix.urls, u, it.key)
	}
	for _, t := range it.tags {
		addTo(s.ix.tags, t, it.key)
	}
}

func (s *diskStore) removeLocked(el *list.Element) {
	it := el.Value.(*diskItem)
	for _, u := range it.urls {
		removeFrom(s.ix.urls, u, it.key)
	}
	for _, t := range it.tags {
		removeFrom(s.ix.tags, t, it.key)
	}
	s.ll.Remove(el)
	delete(s.items, it.key)
	s.size -= it.size
}

// evictLocked unindexes least recently used items until the store fits and
// returns their files, to be removed outside the lock.
func (s *diskStore) evictLocked() []string {
	var files []string
	for s.size > s.max {
		el := s.ll.Back()
		if el == nil {
			break
		}
		files = append(files, el.Value.(*diskItem).file)
		s.removeLocked(el)
	}
	return files
}

func (s *diskStore) expire(now time.Time) {
	var files []string
	s.mu.Lock()
	for {
		el := s.ll.Back()
		if el == nil || now.Sub(el.Value.(*diskItem).lastUse) <= s.inactive {
			break
		}
		files = append(files, el.Value.(*diskItem).file)
		s.removeLocked(el)
	}
	s.mu.Unlock()
	removeFiles(files)
}

func (s *diskStore) janitor() {
	for {
		s.mu.Lock()
		every := min(max(s.inactive/2, 100*time.Millisecond), time.Minute)
		s.mu.Unlock()
		select {
		case <-s.stop:
			return
		case now := <-time.After(every):
			s.expire(now)
		}
	}
}

func removeFiles(files []string) {
	for _, f := range files {
		os.Remove(f)
	}
}
