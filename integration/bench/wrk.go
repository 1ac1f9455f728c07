package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkOptions are the load generator's settings, the same for every target.
type wrkOptions struct {
	Threads     int
	Connections int
	Duration    time.Duration
}

// wrkResult is what the benchmark keeps from one wrk run.
type wrkResult struct {
	RequestsPerSec float64
	P99            time.Duration
	Requests       int64 // total requests completed
	Non2xx         int64 // "Non-2xx or 3xx responses"
	SocketErrors   int64 // connect + read + write + timeout

	// Not from wrk's report: how many cores, on average, processes other
	// than the benchmark's own kept busy during the run, and how many
	// earlier attempts were thrown away because that was too many.
	OtherCPU float64
	Retries  int
}

// args returns wrk's command line for url.
func (o wrkOptions) args(url string) []string {
	return []string{
		"-t" + strconv.Itoa(o.Threads),
		"-c" + strconv.Itoa(o.Connections),
		"-d" + wrkDuration(o.Duration),
		"--latency",
		url,
	}
}

// wrkDuration writes d the way wrk reads it: whole seconds (at least one).
func wrkDuration(d time.Duration) string {
	s := int64((d + time.Second/2) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10) + "s"
}

// runWrk runs wrk against url and parses its report. It also returns the CPU
// time wrk used.
func runWrk(ctx context.Context, wrk string, o wrkOptions, url string) (wrkResult, time.Duration, error) {
	cmd := exec.CommandContext(ctx, wrk, o.args(url)...)
	out, err := cmd.CombinedOutput()
	var cpu time.Duration
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return wrkResult{}, cpu, fmt.Errorf("wrk %s: %v\n%s", url, err, out)
	}
	res, err := parseWrk(string(out))
	if err != nil {
		return wrkResult{}, cpu, fmt.Errorf("wrk %s: %v\n%s", url, err, out)
	}
	return res, cpu, nil
}

var (
	reRequestsPerSec = regexp.MustCompile(`^Requests/sec:\s+([0-9.]+)\s*$`)
	reP99            = regexp.MustCompile(`^99%\s+([0-9.]+)([a-z]+)\s*$`)
	reTotal          = regexp.MustCompile(`^(\d+) requests in `)
	reNon2xx         = regexp.MustCompile(`^Non-2xx or 3xx responses:\s+(\d+)\s*$`)
	reSocketErrors   = regexp.MustCompile(`^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$`)
)

// parseWrk reads wrk 4's text report (run with --latency): the Requests/sec
// line, the 99% line of the latency distribution, the request count and any
// error lines. Requests/sec and the 99% line are required.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var haveRPS, haveP99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := reRequestsPerSec.FindStringSubmatch(line); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return r, fmt.Errorf("bad Requests/sec %q: %v", m[1], err)
			}
			r.RequestsPerSec, haveRPS = v, true
		} else if m := reP99.FindStringSubmatch(line); m != nil {
			d, err := parseWrkTime(m[1], m[2])
			if err != nil {
				return r, fmt.Errorf("bad 99%% latency %q: %v", line, err)
			}
			r.P99, haveP99 = d, true
		} else if m := reTotal.FindStringSubmatch(line); m != nil {
			r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
		} else if m := reNon2xx.FindStringSubmatch(line); m != nil {
			r.Non2xx, _ = strconv.ParseInt(m[1], 10, 64)
		} else if m := reSocketErrors.FindStringSubmatch(line); m != nil {
			for _, s := range m[1:] {
				n, _ := strconv.ParseInt(s, 10, 64)
				r.SocketErrors += n
			}
		}
	}
	if err := sc.Err(); err != nil {
		return r, err
	}
	switch {
	case !haveRPS:
		return r, errors.New("no Requests/sec line in wrk's output")
	case !haveP99:
		return r, errors.New("no 99% latency line in wrk's output (was --latency given?)")
	}
	return r, nil
}

// parseWrkTime converts one of wrk's time figures ("604.00us", "1.38ms",
// "2.00s", "1.50m") to a Duration.
func parseWrkTime(num, unit string) (time.Duration, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, err
	}
	var u time.Duration
	switch unit {
	case "us":
		u = time.Microsecond
	case "ms":
		u = time.Millisecond
	case "s":
		u = time.Second
	case "m":
		u = time.Minute
	case "h":
		u = time.Hour
	default:
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
	return time.Duration(v * float64(u)), nil
}
