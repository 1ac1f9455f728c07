package main

import (
	"strings"
	"testing"
)

func TestInstrReport(t *testing.T) {
	targets := []instrTarget{{Name: targetReverseProxy}, {Name: targetHeaderPolicy}}
	runs := newInstrRuns()
	for i, n := range []struct{ rp, hp instrCount }{
		{instrCount{Total: 104000, Busy: 100000}, instrCount{Total: 108000, Busy: 102000}},
		{instrCount{Total: 105000, Busy: 101000}, instrCount{Total: 106000, Busy: 103000}},
		{instrCount{Total: 103000, Busy: 99000}, instrCount{Total: 107000, Busy: 101000}},
	} {
		runs.add(i+1, targetReverseProxy, "request", n.rp)
		runs.add(i+1, targetHeaderPolicy, "request", n.hp)
	}
	out := instrReport(config{rounds: 3, instrRequests: 2000}, targets, runs)
	reportHas(t, out,
		"| target | instructions/request without the idle scheduler (median) | min | max |",
		"| frontdesk reverse_proxy | 100,000 | 99,000 | 101,000 |",
		"| frontdesk header_policy | 102,000 | 101,000 | 103,000 |",
		"**frontdesk header_policy / frontdesk reverse_proxy = 0.980** in instructions",
		"target ≥ 0.97: meets; extra cost +2000 instructions/request",
		"| target | instructions/request (median) | min | max |",
		"| frontdesk reverse_proxy | 104,000 | 103,000 | 105,000 |",
		"**frontdesk header_policy / frontdesk reverse_proxy = 0.963** in instructions",
		"target ≥ 0.97: BELOW; extra cost +3000 instructions/request",
	)
	if busy, all := strings.Index(out, "= 0.980"), strings.Index(out, "All instructions"); busy < 0 || busy > all {
		t.Errorf("the ratio without the idle scheduler is not the first:\n%s", out)
	}
	if strings.Contains(out, "healthgate") {
		t.Errorf("a ratio without counts was reported:\n%s", out)
	}
}

func TestDumpCountsPer(t *testing.T) {
	if got, want := (dumpCounts{Total: 250000, Idle: 50000}).per(1000), (instrCount{Total: 250, Busy: 200}); got != want {
		t.Errorf("per = %+v, want %+v", got, want)
	}
}
