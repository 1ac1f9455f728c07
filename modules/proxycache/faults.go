package proxycache

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// storageOp names what a storage was doing when it failed: the op label of
// frontdesk_proxy_cache_storage_errors_total and of the storage_errors in
// GET /proxy_cache/stats.
type storageOp uint8

const (
	opGet   storageOp = iota // looking an entry up
	opPut                    // storing a response
	opPurge                  // a purge, a flush or an invalidation
	opEvict                  // removing an entry for max_size or inactive, or a corrupt file
	numStorageOps
)

var storageOpNames = [numStorageOps]string{"get", "put", "purge", "evict"}

func (op storageOp) String() string { return storageOpNames[op] }

// faultKind is one way a storage can be sick. Each kind has its own
// episodes: a disk that cannot remove files may still store, and the other
// way round.
type faultKind uint8

const (
	faultUnreachable faultKind = iota // redis: no command gets an answer
	faultRead                         // disk: a stored file cannot be read
	faultStore                        // disk: a response cannot be written (disk full, read-only)
	faultRemove                       // disk: a file cannot be removed (purge, flush, eviction)
	numFaultKinds
)

// faultMessages are the warning that opens an episode and the info that
// closes it, by kind.
var faultMessages = [numFaultKinds][2]string{
	faultUnreachable: {"redis storage unreachable; requests pass through uncached until it answers again",
		"redis storage answers again; caching resumed"},
	faultRead: {"disk storage cannot read its files; those requests pass through uncached",
		"disk storage reads its files again"},
	faultStore: {"disk storage cannot store responses; they pass through uncached",
		"disk storage stores responses again"},
	faultRemove: {"disk storage cannot remove files; purges fail and evicted entries stay stored and counted",
		"disk storage removes files again"},
}

// faultWarnEvery bounds how often one zone's episodes of one kind may open
// with a warning: a storage flapping faster than this opens its episodes
// silently (at debug level), and closes them silently too.
const faultWarnEvery = 10 * time.Second

// zoneFaults is what a storage zone failed to do, for the life of the
// process: shared by every handler and config using the zone, so a reload
// in the middle of an outage neither forgets nor repeats its warning.
type zoneFaults struct {
	zone     string
	errors   [numStorageOps]atomic.Int64
	episodes [numFaultKinds]episode
}

// faultRegistry holds the zones' faults by zone name.
var faultRegistry sync.Map // string -> *zoneFaults

// faultsFor returns the faults record of zone, creating it on first use.
func faultsFor(zone string) *zoneFaults {
	if z, ok := faultRegistry.Load(zone); ok {
		return z.(*zoneFaults)
	}
	z, _ := faultRegistry.LoadOrStore(zone, &zoneFaults{zone: zone})
	return z.(*zoneFaults)
}

// errorCounts returns the failed operations so far, by op name.
func (z *zoneFaults) errorCounts() map[string]int64 {
	out := map[string]int64{}
	for op := range numStorageOps {
		if n := z.errors[op].Load(); n > 0 {
			out[op.String()] = n
		}
	}
	return out
}

// faultReporter is implemented by storages that log their own failures,
// once per episode, and count them (disk and redis). The handler then logs
// nothing more about them.
type faultReporter interface {
	storageFaults() *zoneFaults
}

// faultLog is a storage's handle on its zone's faults, with the logger of
// the config it belongs to.
type faultLog struct {
	z      *zoneFaults
	logger *zap.Logger
}

// failed records that n operations of kind, begun at start, failed with
// err. The first failure after a success opens an episode with one warning;
// the others are counted only.
func (f faultLog) failed(kind faultKind, op storageOp, n int, start time.Time, err error) {
	f.z.errors[op].Add(int64(n))
	f.z.episodes[kind].fail(f, kind, op, start, err)
}

// succeeded records that an operation of kind, begun at start, succeeded.
// It closes an open episode (one info line) if the operation began after
// the episode's last failure: one begun earlier proves nothing.
func (f faultLog) succeeded(kind faultKind, start time.Time) {
	e := &f.z.episodes[kind]
	if !e.open.Load() {
		return
	}
	e.close(f, kind, start)
}

// note records a message about kind that is not an operation's result (the
// client library's own log lines): it opens an episode if none is open, and
// is logged at debug level otherwise.
func (f faultLog) note(kind faultKind, msg string) {
	e := &f.z.episodes[kind]
	if e.open.Load() {
		f.logger.Debug(msg, zap.String("zone", f.z.zone))
		return
	}
	e.fail(f, kind, numStorageOps, time.Now(), noteError(msg))
}

type noteError string

func (e noteError) Error() string { return string(e) }

// episode is one kind of failure of one zone: open from the first failure
// to the first success that follows it.
type episode struct {
	open atomic.Bool // read without the lock on every success

	mu         sync.Mutex
	since      time.Time // the first failure of the open episode
	lastFail   time.Time // the latest failure
	closedAt   time.Time // when the previous episode closed
	lastWarn   time.Time // the latest opening warning
	warned     bool      // the open episode was announced (so its end is too)
	failures   int64     // in the open episode
	firstError string    // of the open episode
}

func (e *episode) fail(f faultLog, kind faultKind, op storageOp, start time.Time, err error) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	counted := int64(0)
	if op < numStorageOps {
		counted = 1 // a note is not a failed operation
	}
	if e.open.Load() {
		e.failures += counted
		e.lastFail = now
		return
	}
	if start.Before(e.closedAt) {
		return // begun before the recovery: stale evidence
	}
	e.open.Store(true)
	e.since, e.lastFail, e.failures, e.firstError = now, now, counted, err.Error()
	fields := []zap.Field{zap.String("zone", f.z.zone), zap.Error(err)}
	if op < numStorageOps {
		fields = append(fields, zap.Stringer("op", op))
	}
	e.warned = e.lastWarn.IsZero() || now.Sub(e.lastWarn) >= faultWarnEvery
	if !e.warned {
		f.logger.Debug(faultMessages[kind][0], fields...)
		return
	}
	e.lastWarn = now
	f.logger.Warn(faultMessages[kind][0], fields...)
}

func (e *episode) close(f faultLog, kind faultKind, start time.Time) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.open.Load() || !start.After(e.lastFail) {
		return
	}
	e.open.Store(false)
	e.closedAt = now
	fields := []zap.Field{zap.String("zone", f.z.zone), zap.Duration("outage", now.Sub(e.since)),
		zap.Int64("failures", e.failures), zap.String("first_error", e.firstError)}
	if e.warned {
		f.logger.Info(faultMessages[kind][1], fields...)
	} else {
		f.logger.Debug(faultMessages[kind][1], fields...)
	}
}
