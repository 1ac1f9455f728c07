package proxycache

import (
	"cmp"
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
// config reloads (see limitedStore).
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
	s.key = abs
	faults := faultLog{z: faultsFor(s.zoneID()), logger: ctx.Logger()}
	store, err := attachStore(diskPool, abs, s.MaxSize, s.Inactive, func() *diskStore {
		return newDiskStore(abs, s.MaxSize, time.Duration(s.Inactive), faults, osFiles{})
	})
	s.store = store
	return err
}

// Cleanup drops this config's reference to the store.
func (s *DiskStorage) Cleanup() error {
	return detachStore(diskPool, s.key, s.store != nil)
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
	return unmarshalLimits(d, "disk", &s.MaxSize, &s.Inactive, nil)
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
func (s *DiskStorage) Delete(key string) error {
	_, err := s.store.purge(func() []string { return []string{key} })
	return err
}

// PurgeURL implements Storage.
func (s *DiskStorage) PurgeURL(url string) (int, error) {
	return s.store.purge(func() []string { return s.store.ix.keysOf(s.store.ix.urls, url) })
}

// PurgePrefix implements Purger.
func (s *DiskStorage) PurgePrefix(prefix string) (int, error) {
	return s.store.purge(func() []string { return s.store.ix.keysWithPrefix(prefix) })
}

// PurgeTag implements Purger.
func (s *DiskStorage) PurgeTag(tag string) (int, error) {
	return s.store.purge(func() []string { return s.store.ix.keysOf(s.store.ix.tags, tag) })
}

// Flush implements Purger.
func (s *DiskStorage) Flush() error {
	_, err := s.store.purge(s.store.allKeysLocked)
	return err
}

// MaxObjectSize implements Storage.
func (s *DiskStorage) MaxObjectSize() int64 { return s.store.maxSize() }

// Stats returns the number of keys and bytes held.
func (s *DiskStorage) Stats() (int, int64) { return s.store.stats() }

func (s *DiskStorage) storageFaults() *zoneFaults { return s.store.faults.z }

// diskStore is one directory's index.
//
// Files are only ever written, renamed and removed with writeMu held, so
// an index entry and its file change together. An entry leaves the index
// only once its file is gone: when a file cannot be removed (a read-only
// or failing disk), the entry stays stored, counted and served, the purge
// that wanted it gone fails, and nothing comes back after a restart that
// was reported removed.
type diskStore struct {
	dir    string
	files  fileOps
	faults faultLog

	writeMu sync.Mutex // held by whoever writes, renames or removes files

	storeCore // the index: a *diskItem per key in ll, guarded by mu
}

type diskItem struct {
	key        string
	urls, tags []string // of all variants, for the purge index
	file       string
	size       int64
	lastUse    time.Time
	retryAt    time.Time // after a failed removal: not chosen for eviction before
}

// removeRetryEvery spaces out the eviction attempts of an entry whose file
// could not be removed, so that other entries are evicted in its place.
const removeRetryEvery = 10 * time.Second

func newDiskItem(file string, variants []*Entry, size int64, lastUse time.Time) *diskItem {
	it := &diskItem{key: variants[0].Key, file: file, size: size, lastUse: lastUse}
	for _, v := range variants {
		it.urls = append(it.urls, v.URL)
		it.tags = append(it.tags, entryTags(v)...)
	}
	return it
}

// fileOps are the file operations of the disk storage that a sick disk
// makes fail and that change what is stored: tests put failing ones in.
type fileOps interface {
	Remove(name string) error
	Rename(oldpath, newpath string) error
}

// osFiles is fileOps on the real file system.
type osFiles struct{}

func (osFiles) Remove(name string) error             { return os.Remove(name) }
func (osFiles) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func newDiskStore(dir string, max int64, inactive time.Duration, faults faultLog, files fileOps) *diskStore {
	s := &diskStore{dir: dir, files: files, faults: faults}
	s.initCore(max, inactive)
	s.load()
	go s.janitor(s.expire)
	return s
}

func (s *diskStore) configure(max int64, inactive time.Duration) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := time.Now()
	s.mu.Lock()
	s.max, s.inactive = max, inactive
	victims := s.overLocked(now)
	s.mu.Unlock()
	s.drop(victims, opEvict, now)
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
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var corrupt []string
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
			corrupt = append(corrupt, path)
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
	now := time.Now()
	failed, first := 0, error(nil)
	for _, f := range corrupt {
		if err := s.removeFile(f); err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		s.faults.failed(faultRemove, opEvict, failed, now, first)
	}
	s.mu.Lock()
	victims := s.overLocked(now)
	s.mu.Unlock()
	s.drop(victims, opEvict, now)
}

func (s *diskStore) get(key string, now time.Time) ([]*Entry, error) {
	variants, corrupt, err := s.read(key, now)
	if corrupt != nil {
		s.writeMu.Lock()
		s.drop([]*diskItem{corrupt}, opEvict, now)
		s.writeMu.Unlock()
	}
	return variants, err
}

// read returns key's variants. An entry unused for longer than inactive is
// not returned (the janitor removes it); a corrupt one is returned as
// corrupt, for the caller to remove.
func (s *diskStore) read(key string, now time.Time) (variants []*Entry, corrupt *diskItem, err error) {
	s.mu.Lock()
	el, ok := s.items[key]
	if !ok {
		s.mu.Unlock()
		return nil, nil, nil
	}
	it := el.Value.(*diskItem)
	if now.Sub(it.lastUse) > s.inactive {
		s.mu.Unlock()
		return nil, nil, nil
	}
	it.lastUse = now
	s.ll.MoveToFront(el)
	s.mu.Unlock()

	blob, err := os.ReadFile(it.file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.unindex([]*diskItem{it}) // removed behind our back
			return nil, nil, nil
		}
		s.faults.failed(faultRead, opGet, 1, now, err)
		return nil, nil, err
	}
	s.faults.succeeded(faultRead, now)
	variants, err = decodeVariants(blob)
	if err != nil || len(variants) == 0 || variants[0].Key != key {
		s.faults.logger.Warn("removing a corrupt cache file", zap.String("file", it.file), zap.Error(err))
		return nil, it, nil
	}
	return variants, nil, nil
}

func (s *diskStore) put(e *Entry, now time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	current, _, _ := s.read(e.Key, now) // a corrupt file is replaced below
	variants := putVariant(current, e)
	blob := encodeVariants(variants)
	if int64(len(blob)) > s.maxSize() {
		return ErrTooLarge
	}
	file := s.fileFor(e.Key)
	if err := s.writeFile(file, blob); err != nil {
		s.faults.failed(faultStore, opPut, 1, now, err)
		return err
	}
	s.faults.succeeded(faultStore, now)
	s.mu.Lock()
	if el, ok := s.items[e.Key]; ok {
		s.removeLocked(el)
	}
	s.indexLocked(newDiskItem(file, variants, int64(len(blob)), now))
	victims := s.overLocked(now)
	s.mu.Unlock()
	s.drop(victims, opEvict, now)
	return nil
}

// writeFile writes blob to a temporary file and renames it to file.
func (s *diskStore) writeFile(file string, blob []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "w-")
	if err != nil {
		return err
	}
	_, err = tmp.Write(blob)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.files.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// allKeysLocked returns every key held (for Flush).
func (s *diskStore) allKeysLocked() []string {
	keys := make([]string, 0, len(s.items))
	for k := range s.items {
		keys = append(keys, k)
	}
	return keys
}

// purge removes the entries of the keys choose returns (called with the
// index locked) and reports how many went; when some could not be removed,
// a *PurgeError says how many.
func (s *diskStore) purge(choose func() []string) (int, error) {
	now := time.Now()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	var items []*diskItem
	for _, k := range choose() {
		if el, ok := s.items[k]; ok {
			items = append(items, el.Value.(*diskItem))
		}
	}
	s.mu.Unlock()
	removed, failed, err := s.drop(items, opPurge, now)
	if failed > 0 {
		return removed, &PurgeError{Removed: removed, Failed: failed, Err: err}
	}
	return removed, nil
}

// drop removes the files of items, which are indexed, and unindexes those
// whose file is gone. The others stay indexed, counted and served; they are
// not chosen for eviction again before removeRetryEvery. The caller holds
// writeMu. It returns how many were removed and failed, and the first
// failure.
func (s *diskStore) drop(items []*diskItem, op storageOp, start time.Time) (removed, failed int, first error) {
	if len(items) == 0 {
		return 0, 0, nil
	}
	gone := items[:0:0]
	var stuck []*diskItem
	for _, it := range items {
		if err := s.removeFile(it.file); err != nil {
			stuck = append(stuck, it)
			first = cmp.Or(first, err)
			continue
		}
		gone = append(gone, it)
	}
	s.unindex(gone)
	if len(stuck) == 0 {
		s.faults.succeeded(faultRemove, start)
		return len(gone), 0, nil
	}
	retry := time.Now().Add(removeRetryEvery)
	s.mu.Lock()
	for _, it := range stuck {
		it.retryAt = retry
	}
	s.mu.Unlock()
	s.faults.failed(faultRemove, op, len(stuck), start, first)
	return len(gone), len(stuck), first
}

// removeFile removes a file; one already gone is no failure.
func (s *diskStore) removeFile(file string) error {
	if err := s.files.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// unindex drops items from the index, unless a newer item replaced them.
func (s *diskStore) unindex(items []*diskItem) {
	if len(items) == 0 {
		return
	}
	s.mu.Lock()
	for _, it := range items {
		if el, ok := s.items[it.key]; ok && el.Value.(*diskItem) == it {
			s.removeLocked(el)
		}
	}
	s.mu.Unlock()
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

// overLocked returns the least recently used items that must go for the
// store to fit, leaving them indexed: they leave the index when their files
// are gone. Items whose removal failed lately are passed over.
func (s *diskStore) overLocked(now time.Time) []*diskItem {
	var victims []*diskItem
	excess := s.size - s.max
	for el := s.ll.Back(); el != nil && excess > 0; el = el.Prev() {
		it := el.Value.(*diskItem)
		if now.Before(it.retryAt) {
			continue
		}
		victims = append(victims, it)
		excess -= it.size
	}
	return victims
}

// expire removes the items unused for longer than inactive.
func (s *diskStore) expire(now time.Time) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var victims []*diskItem
	s.mu.Lock()
	for el := s.ll.Back(); el != nil; el = el.Prev() {
		it := el.Value.(*diskItem)
		if now.Sub(it.lastUse) <= s.inactive {
			break
		}
		if !now.Before(it.retryAt) {
			victims = append(victims, it)
		}
	}
	s.mu.Unlock()
	s.drop(victims, opEvict, now)
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*DiskStorage)(nil)
	_ caddy.CleanerUpper    = (*DiskStorage)(nil)
	_ caddyfile.Unmarshaler = (*DiskStorage)(nil)
	_ faultReporter         = (*DiskStorage)(nil)
)
