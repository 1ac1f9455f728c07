package stats

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestLatencyBucketBounds(t *testing.T) {
	for _, us := range []uint64{0, 1, 7, 8, 9, 15, 16, 100, 999, 1000, 1 << 20, 123456789, 1<<63 + 5} {
		i := latencyBucket(us)
		hi := latencyUpper(i)
		if hi < us {
			t.Errorf("%d µs: bucket %d ends at %d, below the value", us, i, hi)
		}
		if us >= 8 && float64(hi) > float64(us)*1.25+1 {
			t.Errorf("%d µs: bucket %d ends at %d, more than 25 %% above", us, i, hi)
		}
		if i > 0 && latencyUpper(i-1) >= us {
			t.Errorf("%d µs: the bucket before %d ends at %d, not below", us, i, latencyUpper(i-1))
		}
	}
	if latencyBucket(^uint64(0)) != latencyBuckets-1 {
		t.Errorf("the largest value is in bucket %d, want %d", latencyBucket(^uint64(0)), latencyBuckets-1)
	}
}

func TestLatencyQuantiles(t *testing.T) {
	var l Latency
	if got := l.Quantiles(0.5, 0.99); got[0] != 0 || got[1] != 0 {
		t.Errorf("empty: %v, want zeros", got)
	}
	for i := 1; i <= 100; i++ {
		l.Observe(time.Duration(i) * time.Millisecond)
	}
	got := l.Quantiles(0.5, 0.99)
	for i, want := range []float64{50, 99} {
		if got[i] < want || got[i] > want*1.25 {
			t.Errorf("quantile %d: %.3f ms, want %.0f to %.2f", i, got[i], want, want*1.25)
		}
	}
}

func TestRequestsByOutcome(t *testing.T) {
	var r Requests
	for _, status := range []int{200, 204, 404, 429, 500, 503, 0} {
		start := r.Begin()
		if r.Stats().InFlight != 1 {
			t.Fatalf("in flight after Begin: %d", r.Stats().InFlight)
		}
		r.End(start, status)
	}
	got := r.Stats()
	got.LatencyP50MS, got.LatencyP99MS = 0, 0
	want := RequestStats{Requests: 7, Status4xx: 2, Status5xx: 2, Failed: 1}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestTopKExactUnderCapacity(t *testing.T) {
	tk := NewTopK(10)
	for i, n := range []int{5, 3, 3, 1} {
		for range n {
			tk.Add(fmt.Sprintf("k%d", i))
		}
	}
	want := []Top{{Key: "k0", Count: 5}, {Key: "k1", Count: 3}, {Key: "k2", Count: 3}}
	if got := tk.Top(3); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestTopKKeepsHeavyHitterInBoundedMemory(t *testing.T) {
	tk := NewTopK(8)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		if i%4 == 0 {
			tk.Add("heavy")
			continue
		}
		tk.Add(fmt.Sprintf("noise-%d", rng.IntN(5000)))
	}
	if len(tk.counts) > 8 {
		t.Fatalf("tracks %d keys, capacity 8", len(tk.counts))
	}
	top := tk.Top(1)
	if top[0].Key != "heavy" || top[0].Count < 5000 {
		t.Errorf("top: %+v, want heavy with at least 5000", top)
	}
	tk.Reset()
	if len(tk.Top(5)) != 0 {
		t.Error("keys left after Reset")
	}
}

func TestRingKeepsTheLastN(t *testing.T) {
	r := NewRing[int](3)
	if got, n := r.Last(5); len(got) != 0 || n != 0 {
		t.Errorf("empty ring: %v, %d", got, n)
	}
	for i := 1; i <= 5; i++ {
		r.Add(i)
	}
	got, n := r.Last(10)
	if !reflect.DeepEqual(got, []int{5, 4, 3}) || n != 5 {
		t.Errorf("got %v (%d added), want [5 4 3] (5 added)", got, n)
	}
	if got, _ := r.Last(2); !reflect.DeepEqual(got, []int{5, 4}) {
		t.Errorf("last 2: %v", got)
	}
}

func TestSnapshotAndHooks(t *testing.T) {
	Register("test-a", func() any { return 1 })
	Register("test-nil", func() any { return nil })
	defer func() {
		registry.Lock()
		delete(registry.providers, "test-a")
		delete(registry.providers, "test-nil")
		registry.purger, registry.resolver = nil, nil
		registry.Unlock()
	}()
	snap := Snapshot()
	if snap["test-a"] != 1 {
		t.Errorf("snapshot: %v", snap)
	}
	if _, ok := snap["test-nil"]; ok {
		t.Error("a nil section is in the snapshot")
	}

	if _, ok, _ := Purge(PurgeRequest{Key: "k"}); ok {
		t.Error("Purge ok with no purger")
	}
	SetPurger(func(r PurgeRequest) (int, error) {
		if r.Key == "" {
			return 0, BadRequest{"no key"}
		}
		return 2, nil
	})
	if n, ok, err := Purge(PurgeRequest{Key: "k"}); n != 2 || !ok || err != nil {
		t.Errorf("Purge: %d %v %v", n, ok, err)
	}
	if _, _, err := Purge(PurgeRequest{}); !errors.As(err, new(BadRequest)) {
		t.Errorf("Purge error %v is not a BadRequest", err)
	}

	if _, ok := ResolveLocal("a.example"); ok {
		t.Error("ResolveLocal ok with no resolver")
	}
	SetNameResolver(func(h string) []string { return []string{"127.0.0.1"} })
	if addrs, ok := ResolveLocal("a.example"); !ok || len(addrs) != 1 {
		t.Errorf("ResolveLocal: %v %v", addrs, ok)
	}
}

func BenchmarkRequests(b *testing.B) {
	var r Requests
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.End(r.Begin(), 200)
		}
	})
}

func TestWatchCountsDashboards(t *testing.T) {
	if Watched() {
		t.Fatal("watched before any Watch")
	}
	stopA := Watch()
	stopB := Watch()
	stopA()
	stopA() // a second call changes nothing
	if !Watched() {
		t.Error("not watched while one dashboard is loaded")
	}
	stopB()
	if Watched() {
		t.Error("watched after every dashboard stopped")
	}
	WatchFor(time.Hour)
	if !Watched() {
		t.Error("not watched after a poll")
	}
	WatchFor(-time.Second)
	if Watched() {
		t.Error("watched after the poll's time ran out")
	}
}

func TestSampledTakesOneInN(t *testing.T) {
	s := NewSampled(4)
	tk := NewTopK(4)
	for range 40 {
		if s.Take() {
			tk.AddN("k", s.Weight())
		}
	}
	if got := tk.Top(1); len(got) != 1 || got[0].Count != 40 {
		t.Errorf("sampled count %v, want 40", got)
	}
	if (&Sampled{}).Take() {
		t.Error("the zero Sampled took a call")
	}
	if s.Of(3) || !s.Of(8) {
		t.Error("Of takes another number than every 4th")
	}
}

// TestCoarseNowFollowsTheClock: while a dashboard is watched CoarseNow
// ticks with the clock, and its goroutine stops with the watch.
func TestCoarseNowFollowsTheClock(t *testing.T) {
	if d := time.Since(CoarseNow().Time()); d < 0 || d > coarseTick {
		t.Errorf("unwatched, CoarseNow is %s off", d)
	}
	stop := Watch()
	first := CoarseNow()
	if d := time.Since(first.Time()); d < -coarseTick || d > 2*coarseTick {
		t.Fatalf("CoarseNow is %s off", d)
	}
	time.Sleep(3 * coarseTick)
	if CoarseNow() <= first {
		t.Error("CoarseNow did not advance")
	}
	stop()
	deadline := time.Now().Add(time.Second)
	for coarse.now.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the coarse clock still ticks after the watch ended")
		}
		time.Sleep(coarseTick / 5)
	}
}

// TestWatchForExpires: a poll's watch ends by itself, a later poll
// extends it, and the coarse clock stops with it.
func TestWatchForExpires(t *testing.T) {
	WatchFor(2 * coarseTick)
	WatchFor(4 * coarseTick) // the first poll's end must not stop it
	time.Sleep(3 * coarseTick)
	if !Watched() {
		t.Fatal("not watched before the second poll's end")
	}
	deadline := time.Now().Add(time.Second)
	for Watched() || coarse.now.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still watched (%v) or ticking a second after the poll's end", Watched())
		}
		time.Sleep(coarseTick / 5)
	}
}

// TestRingNumbersValues: Add numbers the values from 1, for a sampler.
func TestRingNumbersValues(t *testing.T) {
	r := NewRing[string](2)
	for i, v := range []string{"a", "b", "c"} {
		if n := r.Add(v); n != uint64(i+1) {
			t.Errorf("Add(%q) = %d, want %d", v, n, i+1)
		}
	}
}

// TestRingPutFillsInPlace: Put's slot, filled, is the newest value, and
// its number follows Add's.
func TestRingPutFillsInPlace(t *testing.T) {
	r := NewRing[[2]int](2)
	r.Add([2]int{1, 1})
	for i := 2; i <= 3; i++ {
		slot, n := r.Put()
		slot[0], slot[1] = i, i*10
		r.Done()
		if n != uint64(i) {
			t.Errorf("Put's number = %d, want %d", n, i)
		}
	}
	if got, n := r.Last(5); !reflect.DeepEqual(got, [][2]int{{3, 30}, {2, 20}}) || n != 3 {
		t.Errorf("got %v (%d added), want [[3 30] [2 20]] (3 added)", got, n)
	}
}

// TestRingConcurrentAdds: Adds on several goroutines, read meanwhile,
// lose no count and leave the ring full of distinct values.
func TestRingConcurrentAdds(t *testing.T) {
	const writers, each, size = 4, 1000, 50
	r := NewRing[int](size)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r.Add(w*each + i)
				if i%100 == 0 {
					r.Last(size)
				}
			}
		}()
	}
	wg.Wait()
	got, n := r.Last(size)
	seen := map[int]bool{}
	for _, v := range got {
		seen[v] = true
	}
	if n != writers*each || len(got) != size || len(seen) != size {
		t.Errorf("%d added, %d values, %d distinct; want %d, %d, %d", n, len(got), len(seen), writers*each, size, size)
	}
}

func TestTopKOfLabelsKeysWhenRead(t *testing.T) {
	tk := NewTopKOf(4, func(a netip.Addr) string { return a.String() })
	a, b := netip.MustParseAddr("127.0.0.9"), netip.MustParseAddr("::1")
	tk.AddN(a, 4)
	tk.Add(b)
	tk.Add(a)
	want := []Top{{Key: "127.0.0.9", Count: 5}, {Key: "::1", Count: 1}}
	if got := tk.Top(3); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// The request-path primitives, serial and with every P at once (a DNS
// server's UDP readers, an HTTP server's connections).

func BenchmarkRingAdd(b *testing.B) {
	type entry struct {
		at   time.Time
		name string
		n    int
	}
	r := NewRing[entry](200)
	e := entry{at: time.Now(), name: "h1.bench.local", n: 1}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			r.Add(e)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Add(e)
			}
		})
	})
}

func BenchmarkTopKAdd(b *testing.B) {
	tk := NewTopK(200)
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("name%d.bench.local", i)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			tk.AddN(keys[i%len(keys)], 4)
			i++
		}
	})
}

func BenchmarkSampledTake(b *testing.B) {
	s := NewSampled(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Take()
		}
	})
}

func BenchmarkWatched(b *testing.B) {
	for _, mode := range []struct {
		name  string
		watch func() (stop func())
	}{
		{"unwatched", func() func() { return func() {} }},
		{"expired", func() func() { WatchFor(-time.Second); return func() {} }},
		{"loaded", Watch},
		{"polled", func() func() { WatchFor(time.Hour); return func() { WatchFor(-time.Second) } }},
	} {
		b.Run(mode.name, func(b *testing.B) {
			defer mode.watch()()
			for b.Loop() {
				Watched()
			}
		})
	}
}

func BenchmarkCoarseNow(b *testing.B) {
	b.Run("unwatched", func(b *testing.B) { // time.Now
		for b.Loop() {
			CoarseNow()
		}
	})
	b.Run("watched", func(b *testing.B) {
		defer Watch()()
		for b.Loop() {
			CoarseNow()
		}
	})
}
