package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// The purge propagation measurement: three Frontdesk instances with local
// tiers share one Redis; an entry is stored on A and served from B's and
// C's local tiers; A's admin API purges it, and B and C are polled until
// they stop answering HIT. The time from the purge request to the first
// non-HIT answer on each (an upper bound of the propagation) is one
// sample. B and C are polled with only-if-cached, so that neither refills
// the shared storage (which would make the other's next answer a HIT
// again, from a new copy).

// fleetPurgeTarget is the p99 the issue asks for on loopback.
const fleetPurgeTarget = 100 * time.Millisecond

// fleetKeyLine makes the instances share keys whatever port they listen on.
const fleetKeyLine = "\tkey {http.request.method}{http.request.scheme}{http.request.host}{http.request.orig_uri}\n"

// fleetPurgeBench runs the measurement for rounds entries and returns its
// Markdown paragraph.
func fleetPurgeBench(ps *procs, bin, dir, backend, redisURL string, rounds int) (string, error) {
	site := strings.Replace(frontdeskRedisSite(true, ""), "\tproxy_cache {\n", "\tproxy_cache {\n\t"+fleetKeyLine, 1)
	type instance struct {
		fd   *harness.Frontdesk
		addr string
	}
	var fleet []instance
	for i := range 3 {
		env := []string{"BENCH_BACKEND=" + backend, "BENCH_REDIS=" + redisURL}
		fd, addr, err := startFrontdeskSite(ps, bin, dir, fmt.Sprintf("frontdesk-fleet-%d", i), site, env)
		if err != nil {
			return "", fmt.Errorf("fleet instance %d: %w", i, err)
		}
		fleet = append(fleet, instance{fd, addr})
	}
	client := &http.Client{Timeout: 5 * time.Second}
	// cachedOnly asks with only-if-cached: a miss is a 504 that neither asks
	// the origin nor stores, so one instance's refill cannot hide whether
	// the purge has reached another.
	status := func(addr, uri string, cachedOnly bool) (string, error) {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+uri, nil)
		if err != nil {
			return "", err
		}
		if cachedOnly {
			req.Header.Set("Cache-Control", "only-if-cached")
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		return resp.Header.Get("X-Cache-Status"), nil
	}
	var samples []float64 // milliseconds
	for i := range rounds {
		uri := fmt.Sprintf("%s?fleet=%d", cacheObjects[0].Path, i)
		if _, err := status(fleet[0].addr, uri, false); err != nil {
			return "", err
		}
		for _, in := range fleet[1:] {
			if err := waitStatus(func() (string, error) { return status(in.addr, uri, false) }, "HIT"); err != nil {
				return "", fmt.Errorf("%s on %s: %w", uri, in.addr, err)
			}
		}
		start := time.Now()
		body := fmt.Sprintf(`{"key":"GEThttp127.0.0.1%s"}`, uri)
		resp, err := client.Post("http://"+fleet[0].fd.Admin+"/proxy_cache/purge", "application/json", strings.NewReader(body))
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("purge %s: %s", uri, resp.Status)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		var firstErr error
		for _, in := range fleet[1:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := waitStatus(func() (string, error) { return status(in.addr, uri, true) }, "!HIT")
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				samples = append(samples, float64(time.Since(start))/float64(time.Millisecond))
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return "", firstErr
		}
	}
	return fleetPurgeReport(samples), nil
}

// waitStatus polls get until its X-Cache-Status is want ("!HIT": anything
// but HIT), for at most 5 s.
func waitStatus(get func() (string, error), want string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := get()
		if err != nil {
			return err
		}
		if s == want || (want == "!HIT" && s != "HIT") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("X-Cache-Status still %q after 5 s, want %s", s, want)
		}
	}
}

// fleetPurgeReport renders the samples (milliseconds).
func fleetPurgeReport(ms []float64) string {
	p99 := percentile(ms, 99)
	verdict := "meets"
	if time.Duration(p99*float64(time.Millisecond)) > fleetPurgeTarget {
		verdict = "ABOVE"
	}
	return fmt.Sprintf("**Purge propagation (3 instances with local tiers on one Redis, %d samples): p50 %.2f ms, p99 %.2f ms, max %.2f ms** "+
		"from the admin purge on A to the first non-HIT on B and C (target p99 ≤ %s: %s)\n\n",
		len(ms), percentile(ms, 50), p99, percentile(ms, 100), fleetPurgeTarget, verdict)
}
