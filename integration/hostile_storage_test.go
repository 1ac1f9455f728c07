package integration

// Storage faults: Redis killed under load, the disk cache's directory turned
// read-only, and the disk full. What must hold in each: no client ever gets
// a 5xx because of the storage (requests pass through to the origin), an
// admin purge or flush that did not happen says so, nothing reported
// removed comes back after a restart, and the log gets one structured
// warning when the fault starts and one info when it ends — no plain-text
// lines, no flood.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// The log messages of proxy_cache's storage fault episodes (faults.go).
const (
	redisDownMsg     = "redis storage unreachable; requests pass through uncached until it answers again"
	redisBackMsg     = "redis storage answers again; caching resumed"
	diskNoStoreMsg   = "disk storage cannot store responses; they pass through uncached"
	diskStoresMsg    = "disk storage stores responses again"
	diskNoRemoveMsg  = "disk storage cannot remove files; purges fail and evicted entries stay stored and counted"
	diskRemovesAgain = "disk storage removes files again"
)

// TestHostileStorageRedisKilled: redis-server is killed under load and
// started again. Every request gets the origin's 200 (MISS while Redis is
// down, never a 5xx), hits resume once it is back, and the log holds one
// warning and one info about it and not one plain-text line (go-redis's own
// logger goes through zap).
func TestHostileStorageRedisKilled(t *testing.T) {
	requirePeer(t, "redis-server")
	redisDir := t.TempDir()
	redis, err := harness.StartRedis(redisDir)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, redis.Process)
	origin := newCountingOrigin(t, 0)
	fd, addr := startCaddyfile(t, storageCaddyfile(t, "redis "+redis.URL()), t.TempDir(), "BACKEND_POOL="+origin.addr())

	paths := make([]string, 20)
	for i := range paths {
		paths[i] = fmt.Sprintf("/api/hot/%d", i)
		cacheStatus(t, addr, paths[i])
	}
	if s := cacheStatus(t, addr, paths[0]).header.Get("X-Cache-Status"); s != "HIT" {
		t.Fatalf("before the kill: %s", s)
	}

	var phase atomic.Int32
	load := startStorageLoad(t, addr, paths, &phase, 4)
	load.waitFor(t, storagePhaseUp, 50)
	redis.Kill()
	phase.Store(storagePhaseDown)
	load.waitFor(t, storagePhaseDown, hostileRounds(t, 200))
	phase.Store(storagePhaseRestarting)
	redis, err = harness.StartRedisOn(redisDir, redis.Port)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, redis.Process)
	phase.Store(storagePhaseBack)
	deadline := time.Now().Add(30 * time.Second)
	for load.hitsBack.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	load.stop()

	if load.hitsBack.Load() == 0 {
		t.Error("no HIT within 30 s of Redis's return")
	}
	for _, f := range load.failures() {
		t.Error(f)
	}
	t.Logf("requests: %d before the kill, %d while Redis was down, %d after (%d HITs)",
		load.count[storagePhaseUp].Load(), load.count[storagePhaseDown].Load(), load.count[storagePhaseBack].Load(), load.hitsBack.Load())
	// The recovery is logged by the first command that succeeds, before the
	// first HIT; the log file may lag a little.
	waitLogged(t, fd.Process, redisBackMsg, 10*time.Second)
	lines := storageLog(t, fd.Process)
	if n := lines.count(redisDownMsg, "warn"); n != 1 {
		t.Errorf("%d warnings %q, want 1", n, redisDownMsg)
	}
	if n := lines.count(redisBackMsg, "info"); n != 1 {
		t.Errorf("%d infos %q, want 1", n, redisBackMsg)
	}
	if n := lines.levelCount("proxy_cache", "warn", "error"); n != 1 {
		t.Errorf("%d warnings and errors from proxy_cache, want 1:\n%s", n, lines.from("proxy_cache"))
	}
}

// TestHostileStorageDiskReadOnly: the disk cache's file system is remounted
// read-only under a running frontdesk. Requests still get 200s (stored
// entries are served, new ones pass through); a flush and a purge answer
// 500 with how many entries they removed and how many they could not, and
// the stats keep counting what is still there. Back read-write, a restart
// finds exactly what the failed flush reported it could not remove; a
// flush that succeeds empties the cache for good: after a restart every
// URL is a MISS.
func TestHostileStorageDiskReadOnly(t *testing.T) {
	mnt := hostileTmpfs(t, "16m")
	origin := newCountingOrigin(t, 0)
	cacheDir := filepath.Join(mnt, "cache")
	cf := storageCaddyfile(t, "disk "+cacheDir)
	zone := "disk/" + cacheDir
	fd, addr := startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())

	n := hostileRounds(t, 100)
	hot := make([]string, n)
	for i := range hot {
		hot[i] = fmt.Sprintf("/api/hot/%d", i)
	}
	if got := storageStatuses(t, addr, hot); got["MISS"] != n {
		t.Fatalf("first round: %v", got)
	}
	if got := storageStatuses(t, addr, hot); got["HIT"] != n {
		t.Fatalf("second round: %v", got)
	}

	remount(t, mnt, syscall.MS_RDONLY)
	code, body := adminAPI(fd.Admin).do(t, "POST", "/proxy_cache/flush", "")
	fail := decodePurgeFailure(t, body)
	if code != 500 || fail.Purged != 0 || fail.Failed != n || fail.Zones[zone].Failed != n ||
		!strings.Contains(fail.Error, "read-only file system") || !strings.Contains(fail.Error, zone) {
		t.Fatalf("flush on a read-only disk: %d %s", code, body)
	}
	code, body = adminAPI(fd.Admin).do(t, "POST", "/proxy_cache/purge", `{"url":"http://api.example.com`+hot[0]+`"}`)
	if fail := decodePurgeFailure(t, body); code != 500 || fail.Failed != 1 || fail.Purged != 0 {
		t.Errorf("purge by URL on a read-only disk: %d %s", code, body)
	}
	if z := zoneStats(t, fd.Admin, zone); z.Objects != n || z.StorageErrors["purge"] < int64(n+1) {
		t.Errorf("stats after the failed flush: %+v, want %d objects and the failed removals counted", z, n)
	}
	if got := storageStatuses(t, addr, hot); got["HIT"] != n {
		t.Errorf("entries the flush could not remove are still served: %v", got)
	}
	fresh := []string{"/api/new/1", "/api/new/2", "/api/new/3"}
	for range 3 { // not stored: each is a MISS, and a 200
		if got := storageStatuses(t, addr, fresh); got["MISS"] != len(fresh) {
			t.Errorf("new URLs on a read-only disk: %v", got)
		}
	}
	lines := storageLog(t, fd.Process)
	for _, c := range []struct{ msg, level string }{{diskNoRemoveMsg, "warn"}, {diskNoStoreMsg, "warn"}} {
		if got := lines.count(c.msg, c.level); got != 1 {
			t.Errorf("%d %s lines %q, want 1", got, c.level, c.msg)
		}
	}

	// Read-write again. The failed flush removed nothing, so a restart
	// finds every entry, as the stats said.
	remount(t, mnt, 0)
	fd.Stop()
	fd, addr = startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())
	if got := storageStatuses(t, addr, hot); got["HIT"] != n {
		t.Errorf("after a restart, the entries the failed flush kept: %v, want %d HITs", got, n)
	}
	if code, body := adminAPI(fd.Admin).do(t, "POST", "/proxy_cache/flush", ""); code != 200 {
		t.Fatalf("flush on a writable disk: %d %s", code, body)
	}
	if z := zoneStats(t, fd.Admin, zone); z.Objects != 0 {
		t.Errorf("stats after the flush: %+v", z)
	}
	fd.Stop()
	_, addr = startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())
	if got := storageStatuses(t, addr, hot); got["MISS"] != n {
		t.Errorf("after a successful flush and a restart: %v, want %d MISSes (nothing comes back)", got, n)
	}
}

// TestHostileStorageDiskFull: the disk cache's file system (a 1 MiB tmpfs)
// fills up. Every request still gets the origin's full body with a 200;
// one warning says the disk cannot store, and one info says it stores
// again once a flush has freed the space.
func TestHostileStorageDiskFull(t *testing.T) {
	mnt := hostileTmpfs(t, "1m")
	var originHits atomic.Int64
	origin := startBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		originHits.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte(strings.Repeat(r.URL.Path+"\n", (64<<10)/(len(r.URL.Path)+1))))
	}))
	cf := storageCaddyfile(t, "disk "+filepath.Join(mnt, "cache"))
	fd, addr := startCaddyfile(t, cf, t.TempDir(), "BACKEND_POOL="+origin.addr())

	big := make([]string, 40) // 40 × 64 KiB: 2.5× the file system
	for i := range big {
		big[i] = fmt.Sprintf("/api/big/%d", i)
	}
	check := func() map[string]int {
		got := map[string]int{}
		for _, p := range big {
			r := cacheStatus(t, addr, p)
			want := strings.Repeat(p+"\n", (64<<10)/(len(p)+1))
			if r.status != 200 || r.body != want {
				t.Fatalf("GET %s on a full disk: %d, %d bytes", p, r.status, len(r.body))
			}
			got[r.header.Get("X-Cache-Status")]++
		}
		return got
	}
	check()
	second := check()
	if second["HIT"] == 0 || second["MISS"] == 0 {
		t.Errorf("second round %v: want HITs for what fitted and MISSes for the rest", second)
	}
	lines := storageLog(t, fd.Process)
	if got := lines.count(diskNoStoreMsg, "warn"); got != 1 {
		t.Errorf("%d warnings %q, want 1:\n%s", got, diskNoStoreMsg, lines.from("proxy_cache"))
	}
	if code, body := adminAPI(fd.Admin).do(t, "POST", "/proxy_cache/flush", ""); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	cacheStatus(t, addr, big[0])
	if s := cacheStatus(t, addr, big[0]).header.Get("X-Cache-Status"); s != "HIT" {
		t.Errorf("after the flush freed the disk: %s", s)
	}
	waitLogged(t, fd.Process, diskStoresMsg, 10*time.Second)
	lines = storageLog(t, fd.Process)
	if got := lines.count(diskStoresMsg, "info"); got != 1 {
		t.Errorf("%d infos %q, want 1", got, diskStoresMsg)
	}
	if n := lines.levelCount("proxy_cache", "warn", "error"); n != 1 {
		t.Errorf("%d warnings and errors from proxy_cache, want 1:\n%s", n, lines.from("proxy_cache"))
	}
}

// Phases of TestHostileStorageRedisKilled.
const (
	storagePhaseUp         int32 = iota
	storagePhaseDown             // killed: every answer a pass-through
	storagePhaseRestarting       // being started again: any 200 will do
	storagePhaseBack             // listening again: hits must resume
	storagePhases
)

// storageLoad is clients requesting paths in a loop, checking each answer
// against the phase the storage was in when the request began.
type storageLoad struct {
	count    [storagePhases]atomic.Int64
	hitsBack atomic.Int64
	done     chan struct{}
	wg       sync.WaitGroup

	mu   sync.Mutex
	errs []string
}

func startStorageLoad(t *testing.T, addr string, paths []string, phase *atomic.Int32, clients int) *storageLoad {
	l := &storageLoad{done: make(chan struct{})}
	for c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := c; ; i++ {
				select {
				case <-l.done:
					return
				default:
				}
				p := phase.Load()
				l.check(p, paths[i%len(paths)], addr)
			}
		}()
	}
	t.Cleanup(l.stop)
	return l
}

func (l *storageLoad) check(phase int32, path, addr string) {
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Host = "api.example.com"
	resp, err := client.Do(req)
	if err != nil {
		l.fail("GET %s: %v", path, err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	status := resp.Header.Get("X-Cache-Status")
	l.count[phase].Add(1)
	switch {
	case err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(body), "answer ") || !strings.HasSuffix(string(body), " for "+path):
		l.fail("GET %s (phase %d): %d %q %v", path, phase, resp.StatusCode, body, err)
	case phase == storagePhaseDown && (status != "MISS" && status != "BYPASS" ||
		!strings.Contains(resp.Header.Get("Cache-Status"), "detail=storage-unavailable")):
		l.fail("GET %s with Redis down: X-Cache-Status %q, Cache-Status %q", path, status, resp.Header.Get("Cache-Status"))
	case phase == storagePhaseBack && status == "HIT":
		l.hitsBack.Add(1)
	}
}

func (l *storageLoad) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 10 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
}

func (l *storageLoad) failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

// waitFor waits until n requests begun in phase have been answered.
func (l *storageLoad) waitFor(t *testing.T, phase int32, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for l.count[phase].Load() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests answered in phase %d within 60 s", l.count[phase].Load(), phase)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *storageLoad) stop() {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	l.wg.Wait()
}

// hostileTmpfs mounts a tmpfs of size on a fresh directory for the test
// and unmounts it at the end. Mounting needs root with CAP_SYS_ADMIN: the
// test skips without it, and fails under CI=true only when it had it.
func hostileTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 || !hasCapSysAdmin() {
		t.Skip("mounting a tmpfs needs root with CAP_SYS_ADMIN")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mounting a tmpfs on %s as root with CAP_SYS_ADMIN: %v", dir, err)
		}
		t.Skipf("cannot mount a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// remount remounts the tmpfs at dir with flags (syscall.MS_RDONLY or 0).
func remount(t *testing.T, dir string, flags uintptr) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|flags, ""); err != nil {
		t.Fatalf("remounting %s: %v", dir, err)
	}
}

// hasCapSysAdmin reports whether this process may mount file systems.
func hasCapSysAdmin() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<21) != 0 // CAP_SYS_ADMIN
		}
	}
	return false
}

// storageStatuses GETs every path once and counts the X-Cache-Status
// values; any answer but a 200 fails the test.
func storageStatuses(t *testing.T, addr string, paths []string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, p := range paths {
		r := cacheStatus(t, addr, p)
		if r.status != 200 || !strings.HasSuffix(r.body, " for "+p) {
			t.Fatalf("GET %s: %d %q", p, r.status, r.body)
		}
		got[r.header.Get("X-Cache-Status")]++
	}
	return got
}

// purgeFailureBody is the admin API's answer to a purge or flush that did
// not happen in full.
type purgeFailureBody struct {
	Error  string `json:"error"`
	Purged int    `json:"purged"`
	Failed int    `json:"failed"`
	Zones  map[string]struct {
		Purged int    `json:"purged"`
		Failed int    `json:"failed"`
		Error  string `json:"error"`
	} `json:"zones"`
}

func decodePurgeFailure(t *testing.T, body string) purgeFailureBody {
	t.Helper()
	var f purgeFailureBody
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("admin answer %q: %v", body, err)
	}
	return f
}

// storageZoneStats is one zone of GET /proxy_cache/stats.
type storageZoneStats struct {
	Objects       int              `json:"objects"`
	Bytes         int64            `json:"bytes"`
	StorageErrors map[string]int64 `json:"storage_errors"`
}

func zoneStats(t *testing.T, admin, zone string) storageZoneStats {
	t.Helper()
	var stats struct {
		Zones map[string]storageZoneStats `json:"zones"`
	}
	body := adminAPI(admin).get(t, "/proxy_cache/stats")
	if err := json.Unmarshal([]byte(body), &stats); err != nil {
		t.Fatalf("stats %q: %v", body, err)
	}
	z, ok := stats.Zones[zone]
	if !ok {
		t.Fatalf("no zone %q in %s", zone, body)
	}
	return z
}

// logLine is one line of frontdesk's JSON log.
type logLine struct {
	Level  string `json:"level"`
	Logger string `json:"logger"`
	Msg    string `json:"msg"`
	raw    string
}

type logLines []logLine

// storageLog reads p's log. Every line must be a JSON object: a plain-text
// line (go-redis's own logger, a stray print) fails the test.
func storageLog(t *testing.T, p *harness.Process) logLines {
	t.Helper()
	var out logLines
	sc := bufio.NewScanner(strings.NewReader(p.Log()))
	sc.Buffer(nil, 1<<20)
	plain := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			if plain++; plain <= 5 {
				t.Errorf("plain-text log line: %s", line)
			}
			continue
		}
		l.raw = line
		out = append(out, l)
	}
	if plain > 5 {
		t.Errorf("... %d plain-text log lines in all", plain)
	}
	return out
}

func (ls logLines) count(msg, level string) (n int) {
	for _, l := range ls {
		if l.Msg == msg && l.Level == level {
			n++
		}
	}
	return n
}

// levelCount counts the lines of loggers containing name at the levels.
func (ls logLines) levelCount(name string, levels ...string) (n int) {
	for _, l := range ls {
		for _, lv := range levels {
			if l.Level == lv && strings.Contains(l.Logger, name) {
				n++
			}
		}
	}
	return n
}

// from returns the raw lines of loggers containing name.
func (ls logLines) from(name string) string {
	var b strings.Builder
	for _, l := range ls {
		if strings.Contains(l.Logger, name) {
			b.WriteString(l.raw + "\n")
		}
	}
	return b.String()
}

// waitLogged waits until p's log holds msg.
func waitLogged(t *testing.T, p *harness.Process, msg string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Log(), `"msg":"`+msg+`"`) {
		if time.Now().After(deadline) {
			t.Errorf("%q not logged within %s", msg, timeout)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
