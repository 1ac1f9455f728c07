package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// idleScheduler is the Go runtime's search for work when a P has none:
// how often it runs, and how long it spins and polls, follows the pace of
// the requests or queries against callgrind's, not the work one needs.
const idleScheduler = "runtime.findRunnable"

// dumpCounts are the figures read from one callgrind profile dump.
type dumpCounts struct {
	Total int64 // every instruction of the dump (its summary)
	Idle  int64 // inclusive instructions of the calls into idleScheduler
}

// instrCount is one run's instructions per request or query: all of them,
// and without the idle scheduler's.
type instrCount struct{ Total, Busy float64 }

// per returns the counts per request (query) of a run of n.
func (c dumpCounts) per(n int) instrCount {
	return instrCount{Total: float64(c.Total) / float64(n), Busy: float64(c.Total-c.Idle) / float64(n)}
}

// callgrindZero zeroes the counters of the valgrind process pid.
func callgrindZero(ctx context.Context, callgrindControl string, pid int) error {
	out, err := exec.CommandContext(ctx, callgrindControl, "-z", strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("callgrind_control -z: %v: %s", err, out)
	}
	return nil
}

// callgrindDump has the valgrind process pid dump its profile (counted
// since the last zeroing or dump) into dir, where its --callgrind-out-file
// points, and reads the dump.
func callgrindDump(ctx context.Context, callgrindControl, dir string, pid int) (dumpCounts, error) {
	out, err := exec.CommandContext(ctx, callgrindControl, "-d", strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return dumpCounts{}, fmt.Errorf("callgrind_control -d: %v: %s", err, out)
	}
	return readDumpCounts(dir, pid)
}

// parseCallgrindDump reads a callgrind profile (the format callgrind_control
// -d writes, names compressed or not) and returns its total and the
// inclusive instructions of the calls into fn from other functions.
func parseCallgrindDump(r io.Reader, fn string) (total, inclusive int64, err error) {
	names := map[string]string{}
	name := func(v string) string { // "(12) runtime.main", then "(12)"
		if !strings.HasPrefix(v, "(") {
			return v
		}
		id, rest, _ := strings.Cut(v, ")")
		if rest = strings.TrimSpace(rest); rest != "" {
			names[id] = rest
		}
		return names[id]
	}
	var caller, callee string
	var call, sawSummary bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "summary:"):
			if total, err = strconv.ParseInt(strings.TrimSpace(line[len("summary:"):]), 10, 64); err != nil {
				return 0, 0, fmt.Errorf("summary: %w", err)
			}
			sawSummary = true
		case strings.HasPrefix(line, "fn="):
			caller = name(line[len("fn="):])
		case strings.HasPrefix(line, "cfn="):
			callee = name(line[len("cfn="):])
		case strings.HasPrefix(line, "calls="):
			call = true
		case strings.ContainsRune("0123456789+-*", rune(line[0])):
			// A cost line; after calls=, the call's inclusive cost.
			if call && callee == fn && caller != fn {
				f := strings.Fields(line)
				if len(f) < 2 {
					return 0, 0, fmt.Errorf("call cost line %q", line)
				}
				v, err := strconv.ParseInt(f[1], 10, 64)
				if err != nil {
					return 0, 0, fmt.Errorf("call cost line %q: %w", line, err)
				}
				inclusive += v
			}
			call = false
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if !sawSummary {
		return 0, 0, fmt.Errorf("no summary line: not a callgrind dump")
	}
	return total, inclusive, nil
}

// latestDump returns the newest profile dump of process pid in dir:
// callgrind.PID.N with the largest N.
func latestDump(dir string, pid int) (string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, fmt.Sprintf("callgrind.%d.*", pid)))
	if err != nil {
		return "", err
	}
	best, bestN := "", -1
	for _, p := range paths {
		n, err := strconv.Atoi(p[strings.LastIndexByte(p, '.')+1:])
		if err == nil && n > bestN {
			best, bestN = p, n
		}
	}
	if best == "" {
		return "", fmt.Errorf("no callgrind dump of pid %d in %s", pid, dir)
	}
	return best, nil
}

// readDumpCounts reads the newest dump of pid in dir.
func readDumpCounts(dir string, pid int) (dumpCounts, error) {
	path, err := latestDump(dir, pid)
	if err != nil {
		return dumpCounts{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return dumpCounts{}, err
	}
	defer f.Close()
	total, idle, err := parseCallgrindDump(f, idleScheduler)
	if err != nil {
		return dumpCounts{}, fmt.Errorf("%s: %w", path, err)
	}
	return dumpCounts{Total: total, Idle: idle}, nil
}
