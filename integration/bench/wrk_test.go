package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The testdata files are real wrk 4.1.0 (Debian) reports, captured against
// this program's backend (-serve-backend) and against a socket that closes
// every connection.
func TestParseWrk(t *testing.T) {
	testParse(t, "parseWrk", parseWrk, []parseCase[wrkResult]{
		{"wrk-ok.txt", wrkResult{RequestsPerSec: 42865.21, P99: 8340 * time.Microsecond, Requests: 128764}},
		{"wrk-us.txt", wrkResult{RequestsPerSec: 12587.50, P99: 1440 * time.Microsecond, Requests: 26429}},
		{"wrk-non2xx.txt", wrkResult{RequestsPerSec: 47465.63, P99: 3530 * time.Microsecond, Requests: 99680, Non2xx: 99680}},
		{"wrk-sockerr.txt", wrkResult{RequestsPerSec: 0, P99: 0, Requests: 0, SocketErrors: 33726}},
	})
}

// parseCase is a testdata file and what a parser must read from it.
type parseCase[R comparable] struct {
	file string
	want R
}

// testParse runs parse, called name, on every case's file.
func testParse[R comparable](t *testing.T, name string, parse func(string) (R, error), cases []parseCase[R]) {
	for _, tt := range cases {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parse(testdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s = %+v, want %+v", name, got, tt.want)
			}
		})
	}
}

// testdata returns the content of testdata/file.
func testdata(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseWrkMissingLines(t *testing.T) {
	full := testdata(t, "wrk-ok.txt")
	noLatency := strings.Replace(full, "     99%    8.34ms\n", "", 1)
	if _, err := parseWrk(noLatency); err == nil || !strings.Contains(err.Error(), "99%") {
		t.Errorf("without the 99%% line: err = %v, want one naming it", err)
	}
	noRPS := strings.Replace(full, "Requests/sec:  42865.21\n", "", 1)
	if _, err := parseWrk(noRPS); err == nil || !strings.Contains(err.Error(), "Requests/sec") {
		t.Errorf("without Requests/sec: err = %v, want one naming it", err)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:18379 Connection refused\n"); err == nil {
		t.Error("wrk's connect failure parsed without error")
	}
}

func TestParseWrkTime(t *testing.T) {
	tests := []struct {
		num, unit string
		want      time.Duration
	}{
		{"604.00", "us", 604 * time.Microsecond},
		{"1.38", "ms", 1380 * time.Microsecond},
		{"2.00", "s", 2 * time.Second},
		{"1.50", "m", 90 * time.Second},
	}
	for _, tt := range tests {
		got, err := parseWrkTime(tt.num, tt.unit)
		if err != nil || got != tt.want {
			t.Errorf("parseWrkTime(%q, %q) = %v, %v; want %v", tt.num, tt.unit, got, err, tt.want)
		}
	}
	if _, err := parseWrkTime("1", "ns"); err == nil {
		t.Error(`unit "ns" accepted`)
	}
}
