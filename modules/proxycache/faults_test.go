package proxycache

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// observedFaults is a faultLog on a fresh zone whose log lines (debug and
// up) the test reads.
func observedFaults(t *testing.T) (*faultLog, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	return &faultLog{z: &zoneFaults{zone: "test/" + t.Name()}, logger: zap.New(core)}, logs
}

// levels returns the levels of the lines logged so far, e.g. "warn info".
func levels(logs *observer.ObservedLogs) string {
	var out []string
	for _, e := range logs.All() {
		out = append(out, e.Level.String())
	}
	return strings.Join(out, " ")
}

// TestFaultEpisodes: a storage's failures are logged once per episode: a
// warning at the first failure, an info at the first success of an
// operation begun after the last failure, nothing in between; stale
// evidence (an operation begun before the latest change) changes nothing;
// episodes opening faster than faultWarnEvery do so at debug level.
func TestFaultEpisodes(t *testing.T) {
	type step struct {
		ok    bool
		early bool // the operation began before the previous step
	}
	fail, ok, okEarly, failEarly := step{}, step{ok: true}, step{ok: true, early: true}, step{early: true}
	for _, c := range []struct {
		name  string
		steps []step
		want  string
	}{
		{"no failure, no line", []step{ok, ok, ok}, ""},
		{"an outage: one warning, one info", []step{ok, fail, fail, fail, fail, ok, ok}, "warn info"},
		{"a success begun before the last failure does not end it", []step{fail, okEarly, fail, ok}, "warn info"},
		{"a failure begun before the recovery does not reopen", []step{fail, ok, failEarly, ok}, "warn info"},
		{"a second outage within faultWarnEvery is a debug pair", []step{fail, ok, fail, fail, ok}, "warn info debug debug"},
		{"still failing: no info", []step{fail, fail}, "warn"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, logs := observedFaults(t)
			prev := time.Now()
			for _, s := range c.steps {
				start := time.Now()
				if s.early {
					start = prev
				}
				prev = time.Now()
				if s.ok {
					f.succeeded(faultStore, start)
				} else {
					f.failed(faultStore, opPut, 1, start, errors.New("no space left on device"))
				}
			}
			if got := levels(logs); got != c.want {
				t.Errorf("logged %q, want %q", got, c.want)
			}
			fails := 0
			for _, s := range c.steps {
				if !s.ok {
					fails++
				}
			}
			if n := f.z.errors[opPut].Load(); n != int64(fails) {
				t.Errorf("put errors %d, want %d", n, fails)
			}
		})
	}
}

// TestFaultEpisodeFields: the opening warning names the zone, the op and
// the error; the closing info the outage and how many operations failed.
func TestFaultEpisodeFields(t *testing.T) {
	f, logs := observedFaults(t)
	f.failed(faultRemove, opEvict, 3, time.Now(), errors.New("read-only file system"))
	f.failed(faultRemove, opPurge, 2, time.Now(), errors.New("read-only file system"))
	f.succeeded(faultRemove, time.Now())
	all := logs.All()
	if len(all) != 2 {
		t.Fatalf("%d lines: %v", len(all), all)
	}
	warn, info := all[0].ContextMap(), all[1].ContextMap()
	if all[0].Message != faultMessages[faultRemove][0] || warn["zone"] != f.z.zone || warn["op"] != "evict" ||
		warn["error"] != "read-only file system" {
		t.Errorf("warning: %q %v", all[0].Message, warn)
	}
	if all[1].Message != faultMessages[faultRemove][1] || info["failures"] != int64(2) || info["outage"] == nil {
		t.Errorf("info: %q %v", all[1].Message, info)
	}
	if got := f.z.errorCounts(); got["evict"] != 3 || got["purge"] != 2 || len(got) != 2 {
		t.Errorf("error counts %v", got)
	}
}

// TestRedisLibLoggerJoinsEpisode: go-redis's own messages about a storage's
// dial errors open that storage's episode if none is open, and are debug
// lines while one is; the commands' failures that follow add no warning.
func TestRedisLibLoggerJoinsEpisode(t *testing.T) {
	f, logs := observedFaults(t)
	dialErr := &redisDialError{err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), faults: f}
	var lib redisLibLogger
	lib.Printf(t.Context(), "redis: connection pool: failed to dial after %d attempts: %v", 5, dialErr)
	f.failed(faultUnreachable, opGet, 1, time.Now(), dialErr)
	lib.Printf(t.Context(), "redis: connection pool: failed to dial after %d attempts: %v", 5, dialErr)
	f.succeeded(faultUnreachable, time.Now())
	if got := levels(logs); got != "warn debug info" {
		t.Fatalf("logged %q, want %q", got, "warn debug info")
	}
	if m := logs.All()[0].Message; !strings.HasPrefix(m, faultMessages[faultUnreachable][0]) {
		t.Errorf("warning %q", m)
	}
	if e := logs.All()[0].ContextMap()["error"]; !strings.Contains(e.(string), "go-redis: redis: connection pool: failed to dial") {
		t.Errorf("warning's error %q", e)
	}
}
