package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The dashboard variant (-dashboard): next to each Frontdesk target that
// keeps dashboard figures (the healthgate proxy, proxy_cache, the DNS
// app), a twin with the same configuration, in a process of its own,
// whose dashboard is watched through every run. Its admin API's dashboard
// data is polled before the run, which keeps the modules gathering their
// top lists and query log for 10 minutes (the switch a loaded
// frontdesk_dashboard flips too), and every dashboardRefresh during it, as
// the page polls. The twin runs next to its target in every round, and
// the report gives the paired ratio watched / unwatched.

const (
	// dashboardTarget is issue 15's bar: the figures a watched dashboard
	// gathers cost at most 2%.
	dashboardTarget = 0.98
	// dashboardRefresh is the page's default refresh.
	dashboardRefresh = 3 * time.Second
	// dashboardData is the admin API's dashboard data.
	dashboardData = "/frontdesk/dashboard/data"
	// dashboardSuffix names a target's watched twin.
	dashboardSuffix = " (dashboard watched)"
)

// watchedName is the name of the watched twin of the target name.
func watchedName(name string) string { return name + dashboardSuffix }

// dashboardFigures is what the benchmark reads of the dashboard's data:
// a figure of each section that a run makes grow.
type dashboardFigures struct {
	DNS struct {
		LogTotal uint64 `json:"log_total"`
	} `json:"dns"`
	Cache []struct {
		TopKeys []struct {
			Count uint64 `json:"count"`
		} `json:"top_keys"`
	} `json:"cache"`
	Upstreams []struct {
		Upstreams []struct {
			Traffic struct {
				Requests uint64 `json:"requests"`
			} `json:"traffic"`
		} `json:"upstreams"`
	} `json:"upstreams"`
}

// gathered sums the figures a run makes grow: the queries the DNS log
// took and the counts of the cache's top keys, both gathered only while
// the dashboard is watched, and the requests proxied to upstreams
// (counted watched or not: for a proxy the sum only shows that the data
// follows the run).
func (f dashboardFigures) gathered() uint64 {
	n := f.DNS.LogTotal
	for _, z := range f.Cache {
		for _, k := range z.TopKeys {
			n += k.Count
		}
	}
	for _, p := range f.Upstreams {
		for _, u := range p.Upstreams {
			n += u.Traffic.Requests
		}
	}
	return n
}

// dashboardWatch keeps one Frontdesk's dashboard watched through a run.
type dashboardWatch struct {
	admin  string
	client *http.Client
	first  dashboardFigures
	stop   chan struct{}
	done   chan error // the polling goroutine's error, or nil once stopped
}

// watchDashboard polls the dashboard data of the Frontdesk whose admin API
// is on admin now, and every dashboardRefresh until end.
func watchDashboard(admin string) (*dashboardWatch, error) {
	w, err := pollDashboard(admin)
	if err != nil {
		return nil, err
	}
	go w.keepPolling()
	return w, nil
}

// pollDashboard polls the dashboard data of the Frontdesk whose admin API
// is on admin once, which keeps it watched, and returns the watch, not
// polling yet.
func pollDashboard(admin string) (*dashboardWatch, error) {
	w := &dashboardWatch{admin: admin, client: &http.Client{Timeout: 5 * time.Second},
		stop: make(chan struct{}), done: make(chan error, 1)}
	first, err := w.poll()
	if err != nil {
		return nil, err
	}
	w.first = first
	return w, nil
}

func (w *dashboardWatch) keepPolling() {
	t := time.NewTicker(dashboardRefresh)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if _, err := w.poll(); err != nil {
				w.done <- err
				return
			}
		case <-w.stop:
			w.done <- nil
			return
		}
	}
}

// poll GETs the dashboard data once.
func (w *dashboardWatch) poll() (dashboardFigures, error) {
	var f dashboardFigures
	resp, err := w.client.Get("http://" + w.admin + dashboardData)
	if err != nil {
		return f, fmt.Errorf("dashboard data: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return f, fmt.Errorf("dashboard data: status %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		return f, fmt.Errorf("dashboard data: %w", err)
	}
	return f, nil
}

// end stops the polling and checks, with a last poll, that the
// watched-only figures grew meanwhile.
func (w *dashboardWatch) end() error {
	close(w.stop)
	if err := <-w.done; err != nil {
		return err
	}
	last, err := w.poll()
	if err != nil {
		return err
	}
	if last.gathered() <= w.first.gathered() {
		return fmt.Errorf("the dashboard on %s gathered nothing during the run: is it watched?", w.admin)
	}
	return nil
}

// watching returns run with the dashboard of the Frontdesk whose admin API
// is on admin watched through it; run itself when admin is "".
func watching[R any](admin string, run func() (R, time.Duration, error)) func() (R, time.Duration, error) {
	if admin == "" {
		return run
	}
	return func() (R, time.Duration, error) {
		var zero R
		w, err := watchDashboard(admin)
		if err != nil {
			return zero, 0, err
		}
		res, cpu, err := run()
		if endErr := w.end(); err == nil {
			err = endErr
		}
		return res, cpu, err
	}
}

// dashboardRatios writes, for each object or scenario of firsts, the
// paired ratio of server's watched twin to server with its verdict, and
// returns their per-round rows. rounds gives a summary's runs.
func dashboardRatios[S pairSummary, R roundRun](b *strings.Builder, sums []S, firsts []string, server string, rounds func(*S) []R) []ratioRow {
	var rows []ratioRow
	for _, a := range firsts {
		num, den := findPair(sums, a, watchedName(server)), findPair(sums, a, server)
		if num == nil || den == nil {
			continue
		}
		rs := perRound(rounds(num), rounds(den))
		if len(rs) == 0 {
			continue
		}
		label := fmt.Sprintf("%s: %s / %s", a, watchedName(server), server)
		writeVerdict(b, label, rs, dashboardTarget)
		rows = append(rows, ratioRow{label, rs})
	}
	return rows
}
