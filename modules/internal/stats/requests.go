package stats

import (
	"sync/atomic"
	"time"
)

// Requests counts the requests sent to one backend: totals by outcome,
// those in flight, and their latency. Every method is lock-free. The zero
// value is ready to use.
type Requests struct {
	total, status4xx, status5xx, failed atomic.Uint64
	inFlight                            atomic.Int64
	latency                             Latency
}

// RequestStats is a Requests' figures at one moment.
type RequestStats struct {
	// Requests is how many requests completed (answered or failed).
	Requests uint64 `json:"requests"`
	// Status4xx and Status5xx count responses by status class.
	Status4xx uint64 `json:"status_4xx"`
	Status5xx uint64 `json:"status_5xx"`
	// Failed counts requests that got no response at all (connection
	// refused, reset, timeout).
	Failed uint64 `json:"failed"`
	// InFlight is how many requests are waiting for a response now.
	InFlight int64 `json:"in_flight"`
	// LatencyP50MS and LatencyP99MS are the median and 99th percentile
	// of the time to the response header, in milliseconds, over the life
	// of the process (25 % resolution).
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
}

// Begin counts a request as in flight and returns its start time, for End.
func (r *Requests) Begin() time.Time {
	r.inFlight.Add(1)
	return time.Now()
}

// End counts a request begun at start: status is its response's status
// code, or 0 when it got none.
func (r *Requests) End(start time.Time, status int) time.Duration {
	d := time.Since(start)
	r.inFlight.Add(-1)
	r.total.Add(1)
	switch {
	case status == 0:
		r.failed.Add(1)
	case status >= 500:
		r.status5xx.Add(1)
	case status >= 400:
		r.status4xx.Add(1)
	}
	r.latency.Observe(d)
	return d
}

// Stats returns the figures now. The classes are read before the total
// (End adds to them after it), so Requests is never below their sum.
func (r *Requests) Stats() RequestStats {
	q := r.latency.Quantiles(0.5, 0.99)
	s := RequestStats{Status4xx: r.status4xx.Load(), Status5xx: r.status5xx.Load(), Failed: r.failed.Load()}
	s.Requests, s.InFlight = r.total.Load(), r.inFlight.Load()
	s.LatencyP50MS, s.LatencyP99MS = q[0], q[1]
	return s
}
