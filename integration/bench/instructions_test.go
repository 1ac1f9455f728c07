package main

import (
	"strings"
	"testing"
)

func TestParseCallgrindTotals(t *testing.T) {
	out := `PID 28627: ./frontdesk run --config Caddyfile
sending command status internal to pid 28627

  Totals:        Ir 
   Th 1  22,778,634 
   Th 2   3,638,070 
   Th 4           0 
   Th 7  19,330,012 
   Th12   1,000,001 
`
	got, err := parseCallgrindTotals(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(22778634 + 3638070 + 19330012 + 1000001); got != want {
		t.Errorf("sum = %d, want %d", got, want)
	}
	if _, err := parseCallgrindTotals("PID 1: x\nError: Callgrind not found\n"); err == nil {
		t.Error("output without totals: no error")
	}
}

func TestInstrReport(t *testing.T) {
	targets := []instrTarget{{Name: targetReverseProxy}, {Name: targetHeaderPolicy}}
	counts := map[string][]float64{
		targetReverseProxy: {100000, 101000, 99000},
		targetHeaderPolicy: {102000, 103000, 101000},
	}
	out := instrReport(config{rounds: 3, instrRequests: 2000}, targets, counts)
	reportHas(t, out,
		"| frontdesk reverse_proxy | 100,000 | 99,000 | 101,000 |",
		"| frontdesk header_policy | 102,000 | 101,000 | 103,000 |",
		"**frontdesk header_policy / frontdesk reverse_proxy = 0.980** in instructions",
		"target ≥ 0.97: meets; extra cost +2000 instructions/request",
	)
	if strings.Contains(out, "healthgate") {
		t.Errorf("a ratio without counts was reported:\n%s", out)
	}
}
