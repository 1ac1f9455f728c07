package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// What a server costs: the CPU time and the peak resident memory of its
// process group (the harness starts every server in a group of its own, so
// nginx's worker and Varnish's cache child count with their parent), from
// /proc.

// procStat is what the benchmark reads from /proc/PID/stat.
type procStat struct {
	PGrp int
	CPU  time.Duration // utime + stime
}

// parseProcStat reads "pid (comm) state ppid pgrp ... utime stime ...". The
// command name may hold spaces and parentheses, so fields are counted from
// the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("no ')' in /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// state(0) ppid(1) pgrp(2) session tty_nr tpgid flags minflt cminflt
	// majflt cmajflt utime(11) stime(12)
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/PID/stat has %d fields after the command, want at least 13", len(f))
	}
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		return procStat{}, fmt.Errorf("bad pgrp %q", f[2])
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("bad utime/stime %q %q", f[11], f[12])
	}
	return procStat{PGrp: pgrp, CPU: time.Duration(u+s) * clockTick}, nil
}

// parseVmHWM returns the VmHWM line of /proc/PID/status (peak resident set
// size) in KiB; a kernel thread has none.
func parseVmHWM(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmHWM line %q", sc.Text())
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, errors.New("no VmHWM line in /proc/PID/status")
}

// groupPIDs returns the living processes of process group pgrp.
func groupPIDs(pgrp int) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		st, err := parseProcStat(b)
		if err != nil || st.PGrp != pgrp {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// srvUsage is a process group's CPU time and the sum of its processes' peak
// RSS since the last resetPeak.
type srvUsage struct {
	CPU     time.Duration
	PeakRSS int64 // KiB
}

// groupUsage reads srvUsage for process group pgrp.
func groupUsage(pgrp int) srvUsage {
	var u srvUsage
	for _, pid := range groupPIDs(pgrp) {
		dir := "/proc/" + strconv.Itoa(pid)
		if b, err := os.ReadFile(dir + "/stat"); err == nil {
			if st, err := parseProcStat(b); err == nil {
				u.CPU += st.CPU
			}
		}
		if b, err := os.ReadFile(dir + "/status"); err == nil {
			if kb, err := parseVmHWM(b); err == nil {
				u.PeakRSS += kb
			}
		}
	}
	return u
}

// resetPeak sets every process of group pgrp's VmHWM back to its current RSS
// (writing 5 to /proc/PID/clear_refs, Linux 4.0 and later), so that the next
// groupUsage gives the peak of one run. It returns false when the kernel
// refused (then the peak is the process's since it started).
func resetPeak(pgrp int) bool {
	ok := true
	for _, pid := range groupPIDs(pgrp) {
		if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0); err != nil {
			ok = false
		}
	}
	return ok
}

// formatKiB writes a size in KiB as MiB with one decimal.
func formatKiB(kb int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}
