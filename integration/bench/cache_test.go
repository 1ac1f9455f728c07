package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBackendCacheObjects: the cache paths answer their objects with
// Cache-Control, and /cache/count counts those requests only.
func TestBackendCacheObjects(t *testing.T) {
	srv := httptest.NewServer(backendHandler(""))
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	for _, o := range cacheObjects {
		resp, b := get(o.Path)
		if resp.StatusCode != 200 || b != string(o.Body) || resp.Header.Get("Cache-Control") != cacheControl ||
			resp.Header.Get("Content-Type") != cacheContentType {
			t.Errorf("GET %s: %s, %d bytes, headers %v", o.Path, resp.Status, len(b), resp.Header)
		}
	}
	get("/")
	if _, n := get(cacheCountPath); n != "2" {
		t.Errorf("count = %q, want 2", n)
	}
}

func TestCacheObjects(t *testing.T) {
	if len(cacheObjects[0].Body) != 1024 || len(cacheObjects[1].Body) != 100*1024 {
		t.Fatalf("object sizes %d, %d", len(cacheObjects[0].Body), len(cacheObjects[1].Body))
	}
	for _, o := range cacheObjects {
		if strings.ContainsAny(string(o.Body), "\"{}\\ \n") {
			t.Errorf("%s holds characters a quoted Caddyfile token would change", o.Name)
		}
	}
	site := respondSite()
	if !strings.Contains(site, "\trespond /cache/1k \""+string(cacheObjects[0].Body)+"\" 200\n") {
		t.Errorf("respondSite lacks the 1 KiB respond line")
	}
}

func TestCacheReport(t *testing.T) {
	run := func(rps float64) cacheRun {
		return cacheRun{wrkResult: wrkResult{RequestsPerSec: rps, P99: time.Millisecond, Requests: 1000}, CPUPerReq: 20, PeakRSS: 65 * 1024}
	}
	var sums []cacheSummary
	for _, s := range []struct {
		server string
		rps    [2]float64
	}{
		{cacheRespond, [2]float64{30000, 30000}},
		{cacheFrontdesk, [2]float64{28000, 26000}},
		{cacheVarnish, [2]float64{25000, 27000}},
		{cacheNginx, [2]float64{50000, 50000}},
	} {
		sums = append(sums, summarizeCache("1 KiB", s.server, []cacheRun{run(s.rps[0]), run(s.rps[1])}))
	}
	sums[2].Rounds[1].PeakRSS = 100 * 1024
	sums[2] = summarizeCache(sums[2].Object, sums[2].Server, sums[2].Rounds)
	c := config{wrk: wrkOptions{Threads: 1, Connections: 64, Duration: 2 * time.Second}, rounds: 2}
	out := cacheReport(c, sums, []string{"a note"})
	reportHas(t, out,
		"| 1 KiB | caddy respond | 30,000 | 1.00ms | 20.00 | 1.000 | 1.156 | 65.0 MiB |",
		// per-round 28/25 = 1.12 and 26/27 = 0.963: median 1.041
		"| 1 KiB | frontdesk proxy_cache | 27,000 | 1.00ms | 20.00 | 0.900 | 1.041 | 65.0 MiB |",
		"| 1 KiB | varnish | 26,000 | 1.00ms | 20.00 | 0.867 | 1.000 | 100.0 MiB |",
		"**1 KiB: frontdesk proxy_cache / caddy respond = 0.900**, median of the per-round ratios (target ≥ 0.90: meets)",
		"**1 KiB: frontdesk proxy_cache / varnish = 1.041**, median of the per-round ratios (target ≥ 1.00: meets)",
		"| 1 KiB: frontdesk proxy_cache / varnish | 1.120 | 0.963 |",
		"- a note",
	)
}

// TestCacheReportFleetRows: the local tier's ratio to storage memory gets
// its verdict, and Redis without it is reported.
func TestCacheReportFleetRows(t *testing.T) {
	run := func(rps float64) cacheRun {
		return cacheRun{wrkResult: wrkResult{RequestsPerSec: rps, P99: time.Millisecond, Requests: 1000}, CPUPerReq: 20, PeakRSS: 65 * 1024}
	}
	var sums []cacheSummary
	for _, s := range []struct {
		server string
		rps    float64
	}{{cacheRespond, 30000}, {cacheFrontdesk, 28000}, {cacheRedisLocal, 27000}, {cacheRedisShared, 7000}} {
		sums = append(sums, summarizeCache("1 KiB", s.server, []cacheRun{run(s.rps), run(s.rps)}))
	}
	c := config{wrk: wrkOptions{Threads: 1, Connections: 64, Duration: 2 * time.Second}, rounds: 2}
	out := cacheReport(c, sums, nil)
	reportHas(t, out,
		"**1 KiB: frontdesk redis + local tier / frontdesk proxy_cache = 0.964**, median of the per-round ratios (target ≥ 0.95: meets)",
		"**1 KiB: frontdesk redis, no local tier / frontdesk proxy_cache = 0.250**, median of the per-round ratios (reported: a Redis round trip per hit)")
}

func TestFleetPurgeReport(t *testing.T) {
	ms := make([]float64, 100)
	for i := range ms {
		ms[i] = float64(i + 1)
	}
	reportHas(t, fleetPurgeReport(ms), "100 samples): p50 50.00 ms, p99 99.00 ms, max 100.00 ms**", "(target p99 ≤ 100ms: meets)")
	reportHas(t, fleetPurgeReport(append(ms, 150, 150)), "(target p99 ≤ 100ms: ABOVE)")
}
