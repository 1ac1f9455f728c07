package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testdata/proc-stat.txt and proc-status.txt are a bash process's
// /proc/PID/stat and /proc/PID/status on Linux 6.18.
func TestParseProcStat(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "proc-stat.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseProcStat(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{PGrp: 16662, CPU: 50 * time.Millisecond}); got != want {
		t.Errorf("parseProcStat = %+v, want %+v", got, want)
	}

	// A command name with spaces and parentheses.
	odd := "42 (a) b (c) R 1 7 7 0 -1 4194304 0 0 0 0 250 150 0 0 20 0 1 0 1 1 1\n"
	got, err = parseProcStat([]byte(odd))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{PGrp: 7, CPU: 4 * time.Second}); got != want {
		t.Errorf("parseProcStat(odd) = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "42 (x) R 1 7", "42 (x) R 1 x 7 0 -1 0 0 0 0 0 1 1"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q): no error", bad)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "proc-status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseVmHWM(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != 4148 {
		t.Errorf("parseVmHWM = %d, want 4148", got)
	}
	// A kernel thread has no VmHWM line.
	if _, err := parseVmHWM([]byte("Name:\tkthreadd\nState:\tS (sleeping)\n")); err == nil {
		t.Error("parseVmHWM without VmHWM: no error")
	}
}

// TestGroupUsage reads this test process's own group: it has used some
// CPU and holds some memory.
func TestGroupUsage(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc")
	}
	st, err := parseProcStat(b)
	if err != nil {
		t.Fatal(err)
	}
	u := groupUsage(st.PGrp)
	if u.PeakRSS <= 0 {
		t.Errorf("groupUsage(%d) = %+v, want a peak RSS", st.PGrp, u)
	}
}

func TestFormatKiB(t *testing.T) {
	if got := formatKiB(105779); got != "103.3 MiB" {
		t.Errorf("formatKiB = %q", got)
	}
}
