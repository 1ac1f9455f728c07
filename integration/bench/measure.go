package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// maxRetries is how many times a run disturbed by other processes is
// repeated before its figures are kept anyway.
const maxRetries = 2

// measurer holds what the throughput, cache and DNS rounds share: the
// context, the command line, the meter of other processes' CPU and the
// notes. measure is the throughput rounds (wrk against the targets); the
// cache and DNS measurers embed it and run their rounds through
// measureRounds and measureRun.
type measurer struct {
	ctx    context.Context
	c      config
	wrk    string
	meter  *cpuMeter
	notes  []string // things the report must mention
	noPeak bool     // the kernel refused to reset VmHWM
}

func (m *measurer) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	step("warning: %s", n)
	m.notes = append(m.notes, n)
}

// measureRounds runs warm once per item when -warmup is set, then every
// item round after round (interleave), and returns once's results by key.
// It notes when the kernel did not let measureRun reset the peak RSS.
func measureRounds[I any, K comparable, R any](m *measurer, items []I, key func(I) K,
	warm func(I) error, once func(round int, it I) (R, error)) (map[K][]R, error) {
	if m.c.warmup > 0 {
		for _, it := range items {
			if err := warm(it); m.ctx.Err() != nil {
				return nil, m.ctx.Err()
			} else if err != nil {
				return nil, err
			}
		}
	}
	results := map[K][]R{}
	if err := interleave(m.c.rounds, items, func(r int, it I) error {
		res, err := once(r, it)
		k := key(it)
		results[k] = append(results[k], res)
		return err
	}); err != nil {
		return nil, err
	}
	if m.noPeak {
		m.note("the kernel did not let the benchmark reset VmHWM (/proc/PID/clear_refs): peak RSS is each server's peak since it started")
	}
	return results, nil
}

// runUsage is what measureRun measures around one run of a load tool.
type runUsage struct {
	OtherCPU float64       // cores other processes kept busy during the run
	Retries  int           // earlier attempts thrown away because of them
	CPU      time.Duration // the server's CPU time during the run (with a server)
	PeakRSS  int64         // KiB, the server's peak during the run (with a server)
	Count    int64         // how much the server's count grew during the run (with count)
}

// perUnit is the server's CPU in µs per request or query; 0 for none.
func (u runUsage) perUnit(n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(u.CPU) / float64(time.Microsecond) / float64(n)
}

// runServer is what measureRun watches besides the load tool.
type runServer struct {
	pgrp  int                   // the server's process group: its CPU time and peak RSS; 0 for none
	count func() (int64, error) // a counter that must not grow (the backend's, the upstream's); nil for none
}

// measureRun runs the load tool (run returns its result and its own CPU
// time), measuring the server around it, and again (maxRetries times at
// most) when other processes kept more than -retry-busy cores busy. keep
// turns a run into the figures kept, prints its progress line, and fails
// when the run served nothing.
func measureRun[R, T any](m *measurer, srv runServer, run func() (R, time.Duration, error), keep func(R, runUsage) (T, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		if srv.pgrp > 0 && !resetPeak(srv.pgrp) {
			m.noPeak = true
		}
		var c0 int64
		if srv.count != nil {
			var err error
			if c0, err = srv.count(); err != nil {
				return zero, err
			}
		}
		var u0 srvUsage
		if srv.pgrp > 0 {
			u0 = groupUsage(srv.pgrp)
		}
		m.meter.begin()
		res, cpu, err := run()
		if m.ctx.Err() != nil {
			return zero, m.ctx.Err() // the tool got Ctrl-C too and printed a partial run
		}
		if err != nil {
			return zero, err
		}
		u := runUsage{Retries: attempt}
		if srv.pgrp > 0 {
			u1 := groupUsage(srv.pgrp)
			u.CPU, u.PeakRSS = u1.CPU-u0.CPU, u1.PeakRSS
		}
		u.OtherCPU = m.meter.end(cpu)
		if srv.count != nil {
			c1, err := srv.count()
			if err != nil {
				return zero, err
			}
			u.Count = c1 - c0
		}
		kept, err := keep(res, u)
		if err != nil {
			return kept, err
		}
		if m.c.retryBusy > 0 && u.OtherCPU > m.c.retryBusy && attempt < maxRetries {
			step("  other processes kept %.2f cores busy: running it again", u.OtherCPU)
			continue
		}
		return kept, nil
	}
}

// measure returns every round's result per target name.
func (m *measurer) measure(targets []target) (map[string][]wrkResult, error) {
	// How busy is the machine before any load? Everything of ours is idle.
	m.meter.begin()
	time.Sleep(time.Second)
	if busy := m.meter.end(0); busy > 0.1 {
		m.note("before the benchmark, other processes kept %.2f of %s cores busy", busy, nproc())
	}
	warm := m.c.wrk
	warm.Duration = m.c.warmup
	return measureRounds(m, targets, func(t target) string { return t.Name },
		func(t target) error {
			step("warm-up %s (%s)", t.Name, wrkDuration(m.c.warmup))
			_, _, err := watching(t.Dashboard, func() (wrkResult, time.Duration, error) { return runWrk(m.ctx, m.wrk, warm, t.URL) })()
			return err
		}, m.once)
}

// interleave calls run for every item in every round (numbered from 1):
// odd rounds in order, even rounds in reverse, so an item is not always
// measured just after the same neighbour. It stops at the first error.
func interleave[T any](rounds int, items []T, run func(round int, item T) error) error {
	for r := 1; r <= rounds; r++ {
		order := slices.Clone(items)
		if r%2 == 0 {
			slices.Reverse(order)
		}
		for _, it := range order {
			if err := run(r, it); err != nil {
				return err
			}
		}
	}
	return nil
}

// once measures t in round r, again if other processes disturbed the run.
func (m *measurer) once(r int, t target) (wrkResult, error) {
	res, err := measureRun(m, runServer{}, watching(t.Dashboard, func() (wrkResult, time.Duration, error) {
		return runWrk(m.ctx, m.wrk, m.c.wrk, t.URL)
	}), func(res wrkResult, u runUsage) (wrkResult, error) {
		res.OtherCPU, res.Retries = u.OtherCPU, u.Retries
		step("round %d/%d %-24s %10s req/s  p99 %-9s other CPU %.2f", r, m.c.rounds, t.Name,
			formatThousands(res.RequestsPerSec), formatLatency(res.P99), res.OtherCPU)
		if res.Requests == 0 {
			return res, fmt.Errorf("round %d: %s answered no request", r, t.Name)
		}
		return res, nil
	})
	if err == nil && (res.Non2xx > 0 || res.SocketErrors > 0) {
		m.note("round %d: %s had %d non-2xx responses and %d socket errors out of %d requests",
			r, t.Name, res.Non2xx, res.SocketErrors, res.Requests)
	}
	return res, err
}

// pair is one item of the cache and DNS rounds: an object or scenario and
// a server.
type pair[A, B any] struct {
	a A
	b B
}

// cross returns every (a, b), the bs of the first a first.
func cross[A, B any](as []A, bs []B) []pair[A, B] {
	var ps []pair[A, B]
	for _, a := range as {
		for _, b := range bs {
			ps = append(ps, pair[A, B]{a, b})
		}
	}
	return ps
}
