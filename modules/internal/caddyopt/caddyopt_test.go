package caddyopt

import (
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

func TestSwitch(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    bool
		wantErr bool
	}{
		{[]string{"on"}, true, false},
		{[]string{"off"}, false, false},
		{[]string{"On"}, false, true},
		{[]string{"yes"}, false, true},
		{nil, false, true},
		{[]string{"on", "off"}, false, true},
	} {
		got, err := Switch(tc.args)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Switch(%q) = %v, %v; want %v, error %v", tc.args, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFlag(t *testing.T) {
	if err := Flag(nil); err != nil {
		t.Errorf("Flag(nil) = %v", err)
	}
	if err := Flag([]string{"on"}); err == nil || err.Error() != "takes no arguments" {
		t.Errorf("Flag([on]) = %v, want takes no arguments", err)
	}
}

func TestBoolOr(t *testing.T) {
	yes, no := true, false
	if !BoolOr(nil, true) || BoolOr(nil, false) || !BoolOr(&yes, false) || BoolOr(&no, true) {
		t.Error("BoolOr does not prefer the set value over the default")
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{
		"0":     0,
		"512":   512,
		"64k":   64 << 10,
		"64K":   64 << 10,
		"64kb":  64 << 10,
		"64KiB": 64 << 10,
		"256m":  256 << 20,
		"256MB": 256 << 20,
		"1g":    1 << 30,
		"2t":    2 << 40,
		" 10m ": 10 << 20,
		"1GiB":  1 << 30,
	} {
		got, err := ParseSize(s)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "k", "-1", "1.5m", "10x", "m10", "99999999999t", "1 0m"} {
		if got, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", s, got)
		}
	}
}

func TestDurationAtLeast(t *testing.T) {
	if got, err := DurationAtLeast([]string{"2s"}, time.Second); err != nil || time.Duration(got) != 2*time.Second {
		t.Errorf("2s: %v, %v", got, err)
	}
	if got, err := DurationAtLeast([]string{"1s"}, time.Second); err != nil || time.Duration(got) != time.Second {
		t.Errorf("1s, the bound itself: %v, %v", got, err)
	}
	for _, args := range [][]string{nil, {"1s", "2s"}} {
		if _, err := DurationAtLeast(args, time.Second); err == nil || err.Error() != "want exactly one duration" {
			t.Errorf("%q: %v", args, err)
		}
	}
	for _, arg := range []string{"500ms", "soon", "-5s"} {
		want := `want a duration of at least 1s, got "` + arg + `"`
		if _, err := DurationAtLeast([]string{arg}, time.Second); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", arg, err, want)
		}
	}
}

func TestDurationOr(t *testing.T) {
	var unset caddy.Duration
	if err := DurationOr(&unset, 3*time.Second, time.Second); err != nil || time.Duration(unset) != 3*time.Second {
		t.Errorf("unset: %v, %v; want the default 3s", unset, err)
	}
	set := caddy.Duration(2 * time.Second)
	if err := DurationOr(&set, 3*time.Second, time.Second); err != nil || time.Duration(set) != 2*time.Second {
		t.Errorf("2s: %v, %v; want it kept", set, err)
	}
	low := caddy.Duration(500 * time.Millisecond)
	if err := DurationOr(&low, 3*time.Second, time.Second); err == nil || err.Error() != "must be at least 1s, got 500ms" {
		t.Errorf("500ms: %v", err)
	}
}
