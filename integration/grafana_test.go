package integration

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// metricName finds the Frontdesk metric names in a PromQL expression.
var metricName = regexp.MustCompile(`\bfrontdesk_[a-z0-9_]+`)

// grafanaQueries are every PromQL expression of a Grafana dashboard JSON:
// the panels' targets (rows' panels too) and the query variables.
func grafanaQueries(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels     []grafanaPanel `json:"panels"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(string); ok && v.Type == "query" {
			out = append(out, q)
		}
	}
	return out
}

type grafanaPanel struct {
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

// scrapedMetricNames are the sample names of a /metrics scrape.
func scrapedMetricNames(t *testing.T, admin adminAPI) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, line := range strings.Split(admin.get(t, "/metrics"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	return names
}

// TestGrafanaDashboardNamesExportedMetrics: every query of
// docs/grafana/frontdesk.json names Frontdesk metrics, and each of them is
// in the real binary's /metrics while the whole stack runs with traffic.
func TestGrafanaDashboardNamesExportedMetrics(t *testing.T) {
	requirePeer(t, "dnsmasq")
	st := startDashboardStack(t)
	stop := make(chan struct{})
	traffic := dashboardTraffic(t, st.httpAddr, st.dnsAddr, stop)
	time.Sleep(time.Second)
	close(stop)
	traffic.Wait()
	exported := scrapedMetricNames(t, adminAPI(st.fd.Admin))

	queries := grafanaQueries(t, repoFile(t, "docs/grafana/frontdesk.json"))
	if len(queries) < 10 {
		t.Fatalf("only %d queries found in the Grafana dashboard", len(queries))
	}
	for _, q := range queries {
		names := metricName.FindAllString(q, -1)
		if len(names) == 0 {
			t.Errorf("query names no Frontdesk metric: %s", q)
		}
		for _, n := range names {
			if !exported[n] {
				t.Errorf("query names %s, which the binary does not export: %s", n, q)
			}
		}
	}
}
