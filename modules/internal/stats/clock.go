package stats

import "time"

// epoch is the process's start, with its monotonic clock reading: stamps
// count from it.
var epoch = time.Now()

// Stamp is a time as nanoseconds of the monotonic clock since the process
// started, for figures kept per request and shown in seconds (the query
// log): one clock read (no wall clock, no ticker), and 8 bytes, made into
// a time.Time only when read.
type Stamp int64

// Now is the current Stamp.
func Now() Stamp { return Stamp(time.Since(epoch)) }

// Time is s as a time: the process's start plus s on the monotonic clock
// (a wall clock set meanwhile does not move it).
func (s Stamp) Time() time.Time { return epoch.Add(time.Duration(s)) }
