package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The testdata files are real dnsperf 2.10.0 (Debian) reports: against
// Debian's dnsmasq 2.90 answering address=, and against a port nothing
// listens on.
func TestParseDnsperf(t *testing.T) {
	testParse(t, "parseDnsperf", parseDnsperf, []parseCase[dnsperfResult]{
		{"dnsperf-ok.txt", dnsperfResult{QPS: 89956.870301, Sent: 180207, Completed: 180207, NoError: 180207}},
		{"dnsperf-lost.txt", dnsperfResult{QPS: 0, Sent: 100, Completed: 0, Lost: 100}},
	})
}

func TestParseDnsperfIncomplete(t *testing.T) {
	b := testdata(t, "dnsperf-ok.txt")
	for _, drop := range []string{"Queries per second:", "Queries completed:"} {
		var kept []string
		for _, l := range strings.Split(b, "\n") {
			if !strings.Contains(l, drop) {
				kept = append(kept, l)
			}
		}
		if _, err := parseDnsperf(strings.Join(kept, "\n")); err == nil {
			t.Errorf("no error without the %q line", drop)
		}
	}
	if _, err := parseDnsperf("dnsperf: command not found\n"); err == nil {
		t.Error("no error for junk")
	}
}

func TestDnsperfArgs(t *testing.T) {
	o := dnsperfOptions{Clients: 4, Threads: 2, Outstanding: 200, Duration: 5 * time.Second}
	want := []string{"-s", "127.0.0.1", "-p", "5353", "-d", "q.txt", "-l", "5", "-c", "4", "-t", "1", "-T", "2", "-q", "200"}
	if got := o.args(5353, "q.txt"); !slices.Equal(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
	o = dnsperfOptions{Clients: 1, Duration: 1500 * time.Millisecond}
	want = []string{"-s", "127.0.0.1", "-p", "53", "-d", "f", "-l", "1.5", "-c", "1", "-t", "1"}
	if got := o.args(53, "f"); !slices.Equal(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
}
