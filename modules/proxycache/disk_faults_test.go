package proxycache

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// sickDisk is fileOps that fails the removals and renames it is told to,
// as a read-only or full disk would.
type sickDisk struct {
	mu         sync.Mutex
	failRemove func(file string) bool // nil: none fail
	renameErr  error
}

func (d *sickDisk) Remove(name string) error {
	d.mu.Lock()
	fail := d.failRemove != nil && d.failRemove(name)
	d.mu.Unlock()
	if fail {
		return &os.PathError{Op: "remove", Path: name, Err: syscall.EROFS}
	}
	return os.Remove(name)
}

func (d *sickDisk) Rename(oldpath, newpath string) error {
	d.mu.Lock()
	err := d.renameErr
	d.mu.Unlock()
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return os.Rename(oldpath, newpath)
}

func (d *sickDisk) set(failRemove func(string) bool, renameErr error) {
	d.mu.Lock()
	d.failRemove, d.renameErr = failRemove, renameErr
	d.mu.Unlock()
}

func failAll(string) bool { return true }

// sickDiskHandler is a handler on a disk storage in a fresh directory whose
// file operations the test makes fail, and whose log it reads.
func sickDiskHandler(t *testing.T, maxSize string) (*Handler, *diskStore, *sickDisk, func() []string) {
	t.Helper()
	dir := t.TempDir()
	h := newHandler(t, `{"storage":{"module":"disk","path":`+jsonString(dir)+maxSize+`}}`)
	store := h.storage.(*DiskStorage).store
	f, logs := observedFaults(t)
	store.faults.logger = f.logger
	sick := &sickDisk{}
	store.files = sick
	warnings := func() []string {
		var out []string
		for _, e := range logs.All() {
			if e.Level >= zapcore.InfoLevel {
				out = append(out, e.Level.String()+": "+e.Message)
			}
		}
		return out
	}
	return h, store, sick, warnings
}

// reopen indexes dir as a restarted process would, and returns the keys
// found there.
func reopen(t *testing.T, dir string) []string {
	t.Helper()
	f, _ := observedFaults(t)
	s := newDiskStore(dir, defaultDiskMaxSize, defaultDiskInactive, *f, osFiles{})
	defer s.Destruct()
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.allKeysLocked()
	sort.Strings(keys)
	return keys
}

func storedKeys(s *diskStore) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.allKeysLocked()
	sort.Strings(keys)
	return keys
}

// TestDiskFlushThatCannotRemoveFails: on a disk that cannot remove files,
// POST /proxy_cache/flush answers 500 with what it removed and what it
// could not; the entries it could not remove stay indexed, counted and
// served; after a restart exactly those are back, and none that it reported
// removed. Once the disk heals, a flush empties it for good.
func TestDiskFlushThatCannotRemoveFails(t *testing.T) {
	h, store, sick, warnings := sickDiskHandler(t, "")
	zone := "disk/" + store.dir
	o := respond(200, "stored", "Cache-Control", "max-age=600")
	var paths []string
	for i := range 10 {
		paths = append(paths, fmt.Sprintf("/hot/%d", i))
	}
	hits := func() (n int) {
		for _, p := range paths {
			if w := send(t, h, o, "GET", p); w.Code != 200 {
				t.Fatalf("GET %s: %d", p, w.Code)
			} else if xcs(w) == labelHit {
				n++
			}
		}
		return n
	}
	hits()
	if n := hits(); n != 10 {
		t.Fatalf("%d of 10 stored", n)
	}

	// Read-only: nothing can be removed.
	sick.set(failAll, nil)
	code, v := adminCall(t, "/proxy_cache/flush", "POST", `{"zone":`+jsonString(zone)+`}`)
	zv, _ := v["zones"].(map[string]any)[zone].(map[string]any)
	if code != http.StatusInternalServerError || v["purged"] != 0.0 || v["failed"] != 10.0 || zv == nil ||
		zv["failed"] != 10.0 || !strings.Contains(v["error"].(string), "read-only file system") ||
		!strings.Contains(v["error"].(string), zone) || v["flushed"] != nil {
		t.Fatalf("flush on a read-only disk: %d %v", code, v)
	}
	if keys, _ := store.stats(); keys != 10 {
		t.Errorf("stats say %d objects, the 10 files are still there", keys)
	}
	if n := hits(); n != 10 {
		t.Errorf("%d of the 10 entries still stored are served", n)
	}
	if code, v := adminCall(t, "/proxy_cache/purge", "POST", `{"url":"http://example.com/hot/3"}`); code != 500 || v["failed"] != 1.0 || v["purged"] != 0.0 {
		t.Errorf("purge by URL on a read-only disk: %d %v", code, v)
	}
	if code, v := adminCall(t, "/proxy_cache/purge", "POST", `{"key":"GEThttpexample.com/hot/3"}`); code != 500 || v["failed"] != 1.0 {
		t.Errorf("purge by key on a read-only disk: %d %v", code, v)
	}
	if got := reopen(t, store.dir); len(got) != 10 {
		t.Errorf("after a restart %d entries, want the 10 that were not removed", len(got))
	}

	// Half the files cannot be removed: those stay, the others are gone for good.
	stuck := func(file string) bool { return filepath.Base(file)[0] < '8' }
	sick.set(stuck, nil)
	var want []string
	for _, k := range storedKeys(store) {
		if stuck(store.fileFor(k)) {
			want = append(want, k)
		}
	}
	code, v = adminCall(t, "/proxy_cache/flush", "POST", "")
	if code != 500 || v["failed"] != float64(len(want)) || v["purged"] != float64(10-len(want)) {
		t.Fatalf("flush with %d unremovable: %d %v", len(want), code, v)
	}
	if got := storedKeys(store); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("index after the flush: %v, want %v", got, want)
	}
	if got := reopen(t, store.dir); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after a restart: %v, want only the unremoved %v", got, want)
	}
	code, v = adminCall(t, "/proxy_cache/stats", "GET", "")
	zs, _ := v["zones"].(map[string]any)[zone].(map[string]any)
	if zs == nil || zs["objects"] != float64(len(want)) || zs["storage_errors"].(map[string]any)["purge"].(float64) < 10 {
		t.Errorf("stats: %v", zs)
	}

	// Healed.
	sick.set(nil, nil)
	if code, v := adminCall(t, "/proxy_cache/flush", "POST", ""); code != 200 {
		t.Fatalf("flush on a healthy disk: %d %v", code, v)
	}
	if got := reopen(t, store.dir); len(got) != 0 {
		t.Errorf("after a successful flush and a restart: %v", got)
	}
	want2 := []string{"warn: " + faultMessages[faultRemove][0], "info: " + faultMessages[faultRemove][1]}
	if got := warnings(); fmt.Sprint(got) != fmt.Sprint(want2) {
		t.Errorf("log:\n%s\nwant one warning and one info", strings.Join(got, "\n"))
	}
}

// TestDiskEvictionThatCannotRemove: evictions on a disk that cannot remove
// files keep the entries in the accounting (objects, bytes = what the files
// hold), count the failures, log one warning for the episode, and pass the
// stuck entries over so others are evicted in their place; once the disk
// heals, the store comes back within max_size and logs one info.
func TestDiskEvictionThatCannotRemove(t *testing.T) {
	_, store, sick, warnings := sickDiskHandler(t, `,"max_size":20480`)
	now := time.Now()
	for i := range 15 {
		if err := store.put(sampleEntry(fmt.Sprint("k", i), 1000), now); err != nil {
			t.Fatal(err)
		}
	}
	sick.set(failAll, nil)
	for i := 15; i < 40; i++ {
		if err := store.put(sampleEntry(fmt.Sprint("k", i), 1000), now); err != nil {
			t.Fatal(err)
		}
	}
	keys, size := store.stats()
	if onDisk := bytesIn(t, store.dir); onDisk != size || keys != 40 {
		t.Errorf("index: %d keys, %d bytes; files: %d bytes (40 entries, none removable)", keys, size, onDisk)
	}
	if n := store.faults.z.errors[opEvict].Load(); n < 15 {
		t.Errorf("%d eviction failures counted", n)
	}
	sick.set(nil, nil)
	later := now.Add(removeRetryEvery + time.Second)
	if err := store.put(sampleEntry("k-after", 1000), later); err != nil {
		t.Fatal(err)
	}
	keys, size = store.stats()
	if onDisk := bytesIn(t, store.dir); size > 20480 || onDisk != size {
		t.Errorf("healed: %d keys, %d bytes in the index, %d in files (max 20480)", keys, size, onDisk)
	}
	want := []string{"warn: " + faultMessages[faultRemove][0], "info: " + faultMessages[faultRemove][1]}
	if got := warnings(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log:\n%s\nwant one warning and one info", strings.Join(got, "\n"))
	}
}

// TestDiskStoreFailurePassesThrough: when responses cannot be stored (disk
// full), every request still gets the origin's answer, one warning is
// logged for the episode, and one info when storing works again.
func TestDiskStoreFailurePassesThrough(t *testing.T) {
	h, _, sick, warnings := sickDiskHandler(t, "")
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write([]byte("origin " + r.URL.Path))
		return nil
	}
	sick.set(nil, syscall.ENOSPC)
	for i := range 20 {
		p := fmt.Sprintf("/full/%d", i%5)
		w := send(t, h, o, "GET", p)
		if w.Code != 200 || w.Body.String() != "origin "+p || xcs(w) != labelMiss {
			t.Fatalf("disk full: %d %q %q", w.Code, xcs(w), w.Body.String())
		}
	}
	if o.n.Load() != 20 {
		t.Errorf("origin asked %d times, want 20 (nothing stored)", o.n.Load())
	}
	sick.set(nil, nil)
	send(t, h, o, "GET", "/full/0")
	expectStatus(t, send(t, h, o, "GET", "/full/0"), labelHit)
	want := []string{"warn: " + faultMessages[faultStore][0], "info: " + faultMessages[faultStore][1]}
	if got := warnings(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log:\n%s\nwant one warning and one info", strings.Join(got, "\n"))
	}
}

// bytesIn is what the cache files under dir hold.
func bytesIn(t *testing.T, dir string) (n int64) {
	t.Helper()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
