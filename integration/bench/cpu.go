package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The machine may be shared: other builds and tests eat into the two cores
// and make the rounds vary. The benchmark measures how much CPU went to
// processes that are not its own during every wrk run, from /proc, so the
// report can say when a figure is not to be trusted.

// clockTick is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTick = time.Second / 100

// systemBusy returns the CPU time every core has spent not idle since boot.
func systemBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("unexpected first line in /proc/stat")
	}
	// user nice system idle iowait irq softirq steal (guest is in user).
	// Interrupt time is left out: on loopback it is mostly the benchmark's
	// own packets, which no process is charged for.
	var busy int64
	for i, s := range f[1:9] {
		switch i {
		case 0, 1, 2, 7: // user, nice, system, steal
			n, _ := strconv.ParseInt(s, 10, 64)
			busy += n
		}
	}
	return time.Duration(busy) * clockTick, nil
}

// groupsCPU returns the CPU time (user + system) of every living process
// whose process group or PID is in ids, and of the kernel's ksoftirqd
// threads, which carry the benchmark's loopback traffic when it is heavy.
func groupsCPU(ids map[int]bool) time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total int64
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ... utime stime: comm may hold spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		pgrp, _ := strconv.Atoi(f[2])
		softirqd := bytes.HasPrefix(b[bytes.IndexByte(b, '(')+1:], []byte("ksoftirqd/"))
		if !ids[pgrp] && !ids[pid] && !softirqd {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		total += u + s
	}
	return time.Duration(total) * clockTick
}

// cpuMeter tells how many cores other processes kept busy during a span.
type cpuMeter struct {
	ours  map[int]bool // process groups and PIDs that belong to the benchmark
	start time.Time
	busy0 time.Duration
	ours0 time.Duration
}

func newCPUMeter(ours map[int]bool) *cpuMeter {
	return &cpuMeter{ours: ours}
}

func (m *cpuMeter) begin() {
	m.start = time.Now()
	m.busy0, _ = systemBusy()
	m.ours0 = groupsCPU(m.ours)
}

// end returns the average number of cores used by other processes since
// begin. extra is the CPU time of our own processes that have exited since
// (wrk), which /proc no longer shows.
func (m *cpuMeter) end(extra time.Duration) float64 {
	busy1, err := systemBusy()
	if err != nil {
		return 0
	}
	elapsed := time.Since(m.start)
	other := (busy1 - m.busy0) - (groupsCPU(m.ours) - m.ours0) - extra
	if elapsed <= 0 || other < 0 {
		return 0
	}
	return float64(other) / float64(elapsed)
}
