package stats

import (
	"sync"
	"sync/atomic"
	"time"
)

// coarseTick is the resolution of CoarseNow.
const coarseTick = 50 * time.Millisecond

var coarse struct {
	once sync.Once
	now  atomic.Int64 // unix nanoseconds
}

// CoarseNow is the time to within coarseTick, for figures that show
// seconds (the query log): one atomic load instead of a clock read. Its
// ticker starts on the first call and runs for the life of the process.
func CoarseNow() time.Time {
	coarse.once.Do(func() {
		coarse.now.Store(time.Now().UnixNano())
		go func() {
			for t := range time.Tick(coarseTick) {
				coarse.now.Store(t.UnixNano())
			}
		}()
	})
	return time.Unix(0, coarse.now.Load())
}
