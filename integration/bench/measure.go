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

// measurer runs wrk against the targets: warm-up, then the rounds.
type measurer struct {
	ctx   context.Context
	c     config
	wrk   string
	meter *cpuMeter
	notes []string // things the report must mention
}

func (m *measurer) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	step("warning: %s", n)
	m.notes = append(m.notes, n)
}

// measure returns every round's result per target name.
func (m *measurer) measure(targets []target) (map[string][]wrkResult, error) {
	// How busy is the machine before any load? Everything of ours is idle.
	m.meter.begin()
	time.Sleep(time.Second)
	if busy := m.meter.end(0); busy > 0.1 {
		m.note("before the benchmark, other processes kept %.2f of %s cores busy", busy, nproc())
	}

	if m.c.warmup > 0 {
		o := m.c.wrk
		o.Duration = m.c.warmup
		for _, t := range targets {
			step("warm-up %s (%s)", t.Name, wrkDuration(m.c.warmup))
			if _, _, err := runWrk(m.ctx, m.wrk, o, t.URL); m.ctx.Err() != nil {
				return nil, m.ctx.Err()
			} else if err != nil {
				return nil, err
			}
		}
	}

	results := make(map[string][]wrkResult)
	err := interleave(m.c.rounds, targets, func(r int, t target) error {
		res, err := m.once(r, t)
		results[t.Name] = append(results[t.Name], res)
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, nil
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
	for attempt := 0; ; attempt++ {
		m.meter.begin()
		res, cpu, err := runWrk(m.ctx, m.wrk, m.c.wrk, t.URL)
		if m.ctx.Err() != nil {
			return res, m.ctx.Err() // wrk got Ctrl-C too and printed a partial run
		}
		if err != nil {
			return res, err
		}
		res.OtherCPU = m.meter.end(cpu)
		res.Retries = attempt
		step("round %d/%d %-24s %10s req/s  p99 %-9s other CPU %.2f", r, m.c.rounds, t.Name,
			formatThousands(res.RequestsPerSec), formatLatency(res.P99), res.OtherCPU)
		if res.Requests == 0 {
			return res, fmt.Errorf("round %d: %s answered no request", r, t.Name)
		}
		if m.c.retryBusy > 0 && res.OtherCPU > m.c.retryBusy && attempt < maxRetries {
			step("  other processes kept %.2f cores busy: running it again", res.OtherCPU)
			continue
		}
		if res.Non2xx > 0 || res.SocketErrors > 0 {
			m.note("round %d: %s had %d non-2xx responses and %d socket errors out of %d requests",
				r, t.Name, res.Non2xx, res.SocketErrors, res.Requests)
		}
		return res, nil
	}
}
