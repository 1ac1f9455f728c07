package caddyopt

import "testing"

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
