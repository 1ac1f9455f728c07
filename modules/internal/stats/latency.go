package stats

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// latencyBuckets is the number of buckets of a Latency: values below 8 µs
// have one bucket each, then every power of two has four, so a bucket's
// upper bound is within 25 % of any value in it, up to 2^64 µs.
const latencyBuckets = 8 + 61*4

// Latency is a lock-free histogram of durations, in microseconds, with a
// bounded relative error (25 %). Observe is one atomic add; quantiles are
// computed at read time. The zero value is ready to use.
type Latency struct {
	buckets [latencyBuckets]atomic.Uint64
}

// latencyBucket is the bucket of a value in microseconds.
func latencyBucket(us uint64) int {
	if us < 8 {
		return int(us)
	}
	n := bits.Len64(us) // ≥ 4
	shift := n - 3
	top := us >> shift // 4..7
	return 8 + (n-4)*4 + int(top-4)
}

// latencyUpper is the largest value, in microseconds, of bucket i.
func latencyUpper(i int) uint64 {
	if i < 8 {
		return uint64(i)
	}
	n := (i-8)/4 + 4
	top := uint64((i-8)%4 + 4)
	shift := n - 3
	return (top+1)<<shift - 1
}

// Observe counts one duration.
func (l *Latency) Observe(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	l.buckets[latencyBucket(uint64(us))].Add(1)
}

// Quantiles returns the given quantiles (0 < q ≤ 1) of every duration
// observed, in milliseconds: the upper bound of the bucket that holds
// each. With nothing observed they are all 0.
func (l *Latency) Quantiles(qs ...float64) []float64 {
	var counts [latencyBuckets]uint64
	var total uint64
	for i := range l.buckets {
		counts[i] = l.buckets[i].Load()
		total += counts[i]
	}
	out := make([]float64, len(qs))
	if total == 0 {
		return out
	}
	for j, q := range qs {
		rank := uint64(q*float64(total) + 0.5)
		rank = max(1, min(rank, total))
		var seen uint64
		for i, c := range counts {
			seen += c
			if seen >= rank {
				out[j] = float64(latencyUpper(i)) / 1000
				break
			}
		}
	}
	return out
}
