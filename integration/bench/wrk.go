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
	return runTool(ctx, "wrk "+url, 0, parseWrk, wrk, o.args(url)...)
}

// runTool runs a load tool (bin with args), parses its combined output
// with parse and returns the result and the CPU time the tool used. Its
// errors start with what and hold the tool's output, only the last
// outLines lines of it when outLines > 0.
func runTool[R any](ctx context.Context, what string, outLines int, parse func(string) (R, error), bin string, args ...string) (R, time.Duration, error) {
	var zero R
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	var cpu time.Duration
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	shown := string(out)
	if outLines > 0 {
		shown = tail(shown, outLines)
	}
	if err != nil {
		return zero, cpu, fmt.Errorf("%s: %v\n%s", what, err, shown)
	}
	res, err := parse(string(out))
	if err != nil {
		return zero, cpu, fmt.Errorf("%s: %v\n%s", what, err, shown)
	}
	return res, cpu, nil
}

// lineRule reads the lines of a tool's report that re matches (trimmed
// of white space); without missing == "", out must hold one, and missing
// is the error when it does not.
type lineRule struct {
	re      *regexp.Regexp
	read    func(m []string) error
	missing string
}

// scanLines reads every line of out with the first rule that matches it,
// until one fails; then it fails with the first required rule that no line
// matched.
func scanLines(out string, rules ...lineRule) error {
	seen := make([]bool, len(rules))
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for i, rule := range rules {
			if m := rule.re.FindStringSubmatch(line); m != nil {
				if err := rule.read(m); err != nil {
					return err
				}
				seen[i] = true
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for i, rule := range rules {
		if rule.missing != "" && !seen[i] {
			return errors.New(rule.missing)
		}
	}
	return nil
}

// floatInto is a rule's read that parses the number in m[1] into v; what
// names it in the error.
func floatInto(v *float64, what string) func([]string) error {
	return func(m []string) (err error) {
		if *v, err = strconv.ParseFloat(m[1], 64); err != nil {
			return fmt.Errorf("bad %s %q: %v", what, m[1], err)
		}
		return nil
	}
}

// intInto is a rule's read that parses the count in m[1] into n (0 when
// it does not parse).
func intInto(n *int64) func([]string) error {
	return func(m []string) error {
		*n, _ = strconv.ParseInt(m[1], 10, 64)
		return nil
	}
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
	err := scanLines(out,
		lineRule{reRequestsPerSec, floatInto(&r.RequestsPerSec, "Requests/sec"), "no Requests/sec line in wrk's output"},
		lineRule{reP99, func(m []string) (err error) {
			if r.P99, err = parseWrkTime(m[1], m[2]); err != nil {
				return fmt.Errorf("bad 99%% latency %q: %v", m[0], err)
			}
			return nil
		}, "no 99% latency line in wrk's output (was --latency given?)"},
		lineRule{reTotal, intInto(&r.Requests), ""},
		lineRule{reNon2xx, intInto(&r.Non2xx), ""},
		lineRule{reSocketErrors, func(m []string) error {
			for _, s := range m[1:] {
				n, _ := strconv.ParseInt(s, 10, 64)
				r.SocketErrors += n
			}
			return nil
		}, ""})
	return r, err
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
