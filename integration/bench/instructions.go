package main

// The instruction-count rounds (-instructions): the Frontdesk targets of
// the throughput and cache rounds, each run under valgrind's callgrind,
// which counts the instructions the server executes. The count does not
// depend on what else the machine is doing, so the ratios it gives hold on
// a busy two-core VM where wrk's req/s move by ±20% from run to run.
//
// What it counts: user-space instructions of the frontdesk process only
// (not the kernel's socket work, which is the same for every target, and
// not the backend), with GOGC=off so that the garbage collector's timing
// does not move the counts (the allocation cost itself is counted;
// collecting it is not), over -instr-requests sequential GETs on one
// keep-alive connection after a warm-up of a tenth as many. Each run's
// profile is dumped (callgrind_control -d) and gives two counts: all
// instructions, and those without the idle scheduler (see idleScheduler),
// on which the ratios are taken.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// instrTarget is one Frontdesk configuration run under callgrind.
type instrTarget struct {
	Name    string
	URL     string
	Size    int    // the body's length, checked on every request
	PID     int    // valgrind's (the wrapper execs it)
	DumpDir string // where callgrind writes its profile dumps
}

// instrRatio is one key figure: Base's instructions over Subject's, so
// that like a throughput ratio it is below 1 when Subject costs more.
type instrRatio struct {
	Subject, Base string
	Target        float64
}

// instrRatios are the targets of the wrk rounds, on instruction counts.
var instrRatios = []instrRatio{
	{targetHeaderPolicy, targetReverseProxy, 0.97},
	{targetHealthgate, targetHeaderPolicy, 0.97},
	{cacheFrontdesk + " 1 KiB", cacheRespond + " 1 KiB", 0.90},
	{cacheFrontdesk + " 100 KiB", cacheRespond + " 100 KiB", 0.90},
	{cacheRedisLocal + " 1 KiB", cacheFrontdesk + " 1 KiB", cacheTargetLocalVsMemory},
	{cacheRedisLocal + " 100 KiB", cacheFrontdesk + " 100 KiB", cacheTargetLocalVsMemory},
}

// callgrindWrapper writes a script that runs bin under callgrind with the
// garbage collector off and env ("KEY=value") set, and returns its path.
// It execs valgrind, so the process the harness starts is valgrind itself
// and callgrind_control can address it by that PID.
func callgrindWrapper(dir, valgrind, bin string, env ...string) (string, error) {
	path := filepath.Join(dir, "frontdesk-callgrind")
	script := fmt.Sprintf("#!/bin/sh\nexec env GOGC=off GODEBUG=asyncpreemptoff=1 %s %s --tool=callgrind --callgrind-out-file=%s/callgrind.%%p %s \"$@\"\n",
		strings.Join(env, " "), valgrind, dir, bin)
	return path, os.WriteFile(path, []byte(script), 0o755)
}

// instructionsBench starts the targets under callgrind, measures them
// round after round and returns the report part.
func instructionsBench(ctx context.Context, c config, ps *procs, dir, bin string, t tools) (string, error) {
	dir = filepath.Join(dir, "instructions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	wrapper, err := callgrindWrapper(dir, t.valgrind, bin)
	if err != nil {
		return "", err
	}
	backend, err := startBackend(ps, dir)
	if err != nil {
		return "", fmt.Errorf("backend: %w", err)
	}
	var targets []instrTarget
	for _, f := range []struct {
		name         string
		policy, gate bool
	}{{targetReverseProxy, false, false}, {targetHeaderPolicy, true, false}, {targetHealthgate, true, true}} {
		_, addr, err := startFrontdeskTarget(ps, wrapper, dir, f.name, backend, f.policy, f.gate, c.idle)
		if err != nil {
			return "", fmt.Errorf("%s under callgrind: %w", f.name, err)
		}
		targets = append(targets, instrTarget{Name: f.name, URL: "http://" + addr + "/", Size: len(body), PID: ps.last().PID(), DumpDir: dir})
	}
	caches, err := instrCacheTargets(ps, wrapper, dir, backend, c.idle)
	if err != nil {
		return "", err
	}
	targets = append(targets, caches...)
	for _, tg := range targets {
		step("%s under callgrind (pid %d)", tg.Name, tg.PID)
	}
	runs := newInstrRuns()
	client := &http.Client{Timeout: time.Minute}
	err = interleave(c.rounds, targets, func(r int, tg instrTarget) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := instructionsPerRequest(ctx, client, tg, c.instrRequests, t.callgrindControl)
		if err != nil {
			return fmt.Errorf("round %d, %s: %w", r, tg.Name, err)
		}
		runs.add(r, tg.Name, "request", n)
		return nil
	})
	if err != nil {
		return "", err
	}
	return instrReport(c, targets, runs), nil
}

// instrCacheTargets starts the cache rows under callgrind: the ceiling
// (respond), proxy_cache on storage memory and, when redis-server is
// installed, proxy_cache on Redis with its local tier (a HIT from the tier
// should cost what a memory HIT does). Each object is warmed to a HIT.
func instrCacheTargets(ps *procs, wrapper, dir, backend string, idle int) ([]instrTarget, error) {
	env := []string{"BENCH_BACKEND=" + backend}
	type site struct{ name, directives string }
	sites := []site{
		{cacheRespond, respondSite()},
		{cacheFrontdesk, fmt.Sprintf(frontdeskCacheSite, proxyTransport(idle))},
	}
	r, missing, err := startBenchRedis(ps, dir)
	if err != nil {
		return nil, err
	}
	if missing == "" {
		env = append(env, "BENCH_REDIS="+r.URL())
		sites = append(sites, site{cacheRedisLocal, frontdeskRedisSite(true, proxyTransport(idle))})
	}
	var targets []instrTarget
	for _, s := range sites {
		fd, addr, err := startFrontdeskSite(ps, wrapper, dir, s.name, s.directives, env)
		if err != nil {
			return nil, fmt.Errorf("%s under callgrind: %w", s.name, err)
		}
		for _, o := range cacheObjects {
			if err := warmAndCheck(cacheServer{Name: s.name, Addr: addr, Cache: s.name != cacheRespond, Age: true}, o); err != nil {
				return nil, err
			}
			targets = append(targets, instrTarget{Name: s.name + " " + o.Name, URL: "http://" + addr + o.Path, Size: len(o.Body), PID: fd.PID(), DumpDir: dir})
		}
	}
	return targets, nil
}

// instructionsPerRequest sends a warm-up, zeroes callgrind's counters,
// sends n requests on one keep-alive connection, dumps the profile and
// returns the instructions executed per request.
func instructionsPerRequest(ctx context.Context, client *http.Client, tg instrTarget, n int, callgrindControl string) (instrCount, error) {
	if err := getN(ctx, client, tg, max(n/10, 1)); err != nil {
		return instrCount{}, err
	}
	if err := callgrindZero(ctx, callgrindControl, tg.PID); err != nil {
		return instrCount{}, err
	}
	if err := getN(ctx, client, tg, n); err != nil {
		return instrCount{}, err
	}
	dc, err := callgrindDump(ctx, callgrindControl, tg.DumpDir, tg.PID)
	if err != nil {
		return instrCount{}, err
	}
	return dc.per(n), nil
}

// getN sends n GETs to tg one after the other and checks each.
func getN(ctx context.Context, client *http.Client, tg instrTarget, n int) error {
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.URL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		got, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return err
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("status %s", resp.Status)
		case got != int64(tg.Size):
			return fmt.Errorf("body of %d bytes, want %d", got, tg.Size)
		}
	}
	return nil
}

// instrReport renders the medians, the spread and the key ratios, first
// without the idle scheduler, then of all instructions.
func instrReport(c config, targets []instrTarget, runs instrRuns) string {
	var b strings.Builder
	b.WriteString("#### Instructions per request (callgrind)\n\n")
	fmt.Fprintf(&b, "valgrind --tool=callgrind, GOGC=off, %d rounds interleaved, %d sequential GETs on one keep-alive connection per run after %d to warm up; "+
		"user-space instructions of the frontdesk process only (the kernel's socket work and the backend are not counted). "+
		"The same Caddyfiles as the wrk rounds. Ratios are the base's count over the subject's, paired per round: below 1 means the subject costs more.\n\n",
		c.rounds, c.instrRequests, max(c.instrRequests/10, 1))
	names := make([]string, len(targets))
	for i, tg := range targets {
		names[i] = tg.Name
	}
	writeInstrSections(&b, "target", "request", names, runs, instrRatios)
	return b.String()
}

// instrRuns are each target's counts, one per round: without the idle
// scheduler (Busy) and all of them (Total).
type instrRuns struct{ Busy, Total map[string][]float64 }

// newInstrRuns returns an empty instrRuns.
func newInstrRuns() instrRuns {
	return instrRuns{Busy: map[string][]float64{}, Total: map[string][]float64{}}
}

// add records round r's count n of target name, per unit ("request",
// "query"), and logs it.
func (rs instrRuns) add(r int, name, unit string, n instrCount) {
	step("round %d: %s: %.0f instructions/%s, %.0f without the idle scheduler", r, name, n.Total, unit, n.Busy)
	rs.Busy[name] = append(rs.Busy[name], n.Busy)
	rs.Total[name] = append(rs.Total[name], n.Total)
}

// writeInstrSections writes the table of the counts without the idle
// scheduler and the ratios on them, then the table of all instructions and
// the ratios with a target on those. head names the first column, unit
// what a count is per ("request", "query").
func writeInstrSections(b *strings.Builder, head, unit string, names []string, runs instrRuns, ratios []instrRatio) {
	fmt.Fprintf(b, "Without the idle scheduler: every instruction but those of the Go runtime's search for work when it has none (%s, inclusive), "+
		"whose share follows the pace of the traffic against callgrind's, not the work a %s needs, and moves the totals by about ±2%%; "+
		"these are the figures to compare, and the ratios right after their table are taken on them.\n\n", idleScheduler, unit)
	writeInstrCounts(b, head, "instructions/"+unit+" without the idle scheduler", names, runs.Busy)
	writeInstrRatios(b, ratios, runs.Busy, unit)
	b.WriteString("All instructions:\n\n")
	writeInstrCounts(b, head, "instructions/"+unit, names, runs.Total)
	for _, r := range ratios {
		if r.Target > 0 {
			writeInstrRatios(b, []instrRatio{r}, runs.Total, unit)
		}
	}
}

// writeInstrCounts writes the table of each name's median, min and max
// count; head names the first column and unit the counted one.
func writeInstrCounts(b *strings.Builder, head, unit string, names []string, counts map[string][]float64) {
	fmt.Fprintf(b, "| %s | %s (median) | min | max |\n|---|---:|---:|---:|\n", head, unit)
	for _, name := range names {
		xs := counts[name]
		if len(xs) == 0 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", name, formatThousands(median(xs)), formatThousands(slices.Min(xs)), formatThousands(slices.Max(xs)))
	}
	b.WriteString("\n")
}

// writeInstrRatios writes each ratio of rs whose counts are there, paired
// per round, with its verdict; a ratio without a target (0) is a
// reference figure. unit is what a count is per ("request", "query").
func writeInstrRatios(b *strings.Builder, rs []instrRatio, counts map[string][]float64, unit string) {
	for _, r := range rs {
		subj, base := counts[r.Subject], counts[r.Base]
		if len(subj) == 0 || len(subj) != len(base) {
			continue
		}
		var per []float64
		for i := range subj {
			per = append(per, base[i]/subj[i])
		}
		verdict := "no target"
		if r.Target > 0 {
			verdict = fmt.Sprintf("target ≥ %.2f: meets", r.Target)
			if median(per) < r.Target {
				verdict = fmt.Sprintf("target ≥ %.2f: BELOW", r.Target)
			}
		}
		fmt.Fprintf(b, "**%s / %s = %.3f** in instructions, median of the per-round ratios (%s; extra cost %+.0f instructions/%s)\n\n",
			r.Subject, r.Base, median(per), verdict, median(subj)-median(base), unit)
	}
}
