package integration

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHealthgateNoneServingError: with every upstream of a pool gated, the
// client gets 502 at once (no retry, although lb_try_duration is 5 s) and
// Caddy's error log line for the request names the pool and each upstream
// with its state and cause. With passive health's fail_duration the named
// sentinel cannot be used: still an instant 502, with reverse_proxy's own
// "dial address" message.
func TestHealthgateNoneServingError(t *testing.T) {
	sick := newHGBackend(t, "sick", false)
	closed := "127.0.0.1:" + strconv.Itoa(freePort(t))
	cases := []struct {
		name, lb string
		named    bool
	}{
		{"no retries", "", true},
		{"lb_try_duration", "\t\tlb_try_duration 5s\n", true},
		{"lb_retries", "\t\tlb_retries 3\n", true},
		{"passive health", "\t\tlb_try_duration 5s\n\t\tfail_duration 10s\n\t\tmax_fails 2\n", false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pool := "gated" + strconv.Itoa(i)
			h := startHG(t, hgPool(pool, "to "+sick.addr()+" "+closed, "interval 100ms", "timeout 500ms", "rise 2")+c.lb+"\t}")
			want := "no healthy upstream in pool " + pool + " (" + sick.addr() + " gated: rise 0/2, status 503, " +
				closed + " gated: rise 0/2, connection refused)"
			if !c.named {
				want = "no-healthy-upstream-in-pool-" + pool + ":0-1"
			}
			deadline := time.Now().Add(10 * time.Second)
			var fastest time.Duration = time.Hour
			for n := 0; ; n++ {
				method := "GET"
				if n%2 == 1 {
					method = "POST"
				}
				start := time.Now()
				r := do(t, method, "http://"+h.addr+"/api", "", "Host: 127.0.0.1")
				took := time.Since(start)
				fastest = min(fastest, took)
				if r.status != http.StatusBadGateway {
					t.Fatalf("%s %d: status %d, want 502", method, n, r.status)
				}
				// A retry would run until lb_try_duration (5 s) ends.
				if took > 2*time.Second {
					t.Fatalf("%s %d took %s: retried", method, n, took)
				}
				line := lastLineContaining(h.fd.Log(), `"logger":"http.log.error"`)
				if n >= 10 && strings.Contains(line, want) && strings.Contains(line, `"status":502`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no error log line with %q; last: %s", want, line)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if fastest > 100*time.Millisecond {
				t.Errorf("fastest 502 took %s, want < 100ms", fastest)
			}
			if sick.served.Load() != 0 {
				t.Errorf("the gated upstream served %d requests", sick.served.Load())
			}
		})
	}
}
