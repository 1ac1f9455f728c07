package main

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dnsperfOptions are dnsperf's settings, the same for every server.
type dnsperfOptions struct {
	Clients     int // -c
	Threads     int // -T; 0: dnsperf's default
	Outstanding int // -q; 0: dnsperf's default (100)
	Duration    time.Duration
}

// dnsperfTimeout is dnsperf's -t: a query lost (dropped by a full socket
// buffer) frees its slot among the outstanding ones after a second instead
// of five, and dnsperf waits no longer than that for answers after -l.
const dnsperfTimeout = "1"

// args returns dnsperf's command line for the server on 127.0.0.1:port
// with the queries in file.
func (o dnsperfOptions) args(port int, file string) []string {
	a := []string{"-s", "127.0.0.1", "-p", strconv.Itoa(port), "-d", file,
		"-l", strconv.FormatFloat(o.Duration.Seconds(), 'f', -1, 64), "-c", strconv.Itoa(o.Clients), "-t", dnsperfTimeout}
	if o.Threads > 0 {
		a = append(a, "-T", strconv.Itoa(o.Threads))
	}
	if o.Outstanding > 0 {
		a = append(a, "-q", strconv.Itoa(o.Outstanding))
	}
	return a
}

// dnsperfResult is what the benchmark keeps from one dnsperf run.
type dnsperfResult struct {
	QPS       float64
	Sent      int64
	Completed int64
	Lost      int64
	NoError   int64 // NOERROR responses
}

var (
	reQPS       = regexp.MustCompile(`^Queries per second:\s+([0-9.]+)\s*$`)
	reSent      = regexp.MustCompile(`^Queries sent:\s+(\d+)\s*$`)
	reCompleted = regexp.MustCompile(`^Queries completed:\s+(\d+)`)
	reLost      = regexp.MustCompile(`^Queries lost:\s+(\d+)`)
	reNoError   = regexp.MustCompile(`^Response codes:.*\bNOERROR (\d+)`)
)

// parseDnsperf reads dnsperf 2.x's statistics: queries sent, completed,
// lost, the response codes and "Queries per second:", which is required.
func parseDnsperf(out string) (dnsperfResult, error) {
	var r dnsperfResult
	err := scanLines(out,
		lineRule{reQPS, floatInto(&r.QPS, "Queries per second"), "no \"Queries per second:\" line in dnsperf's output"},
		lineRule{reSent, intInto(&r.Sent), ""},
		lineRule{reCompleted, intInto(&r.Completed), "no \"Queries completed:\" line in dnsperf's output"},
		lineRule{reLost, intInto(&r.Lost), ""},
		lineRule{reNoError, intInto(&r.NoError), ""})
	return r, err
}

// runDnsperf runs dnsperf and parses its report. It also returns the CPU
// time dnsperf used.
func runDnsperf(ctx context.Context, dnsperf string, o dnsperfOptions, port int, file string) (dnsperfResult, time.Duration, error) {
	return runTool(ctx, "dnsperf", 20, parseDnsperf, dnsperf, o.args(port, file)...)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// dnsperfVersion reads "Version 2.10.0" from dnsperf -h.
func dnsperfVersion(dnsperf string) string {
	out, _ := exec.Command(dnsperf, "-h").CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Version "); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
