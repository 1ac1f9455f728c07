package healthgate

import (
	"strings"
	"testing"
)

func TestStatusSpec(t *testing.T) {
	spec, err := parseStatusSpec([]string{"2xx", "301", "400-404"})
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{200: true, 299: true, 301: true, 302: false, 400: true, 404: true, 405: false, 500: false} {
		if got := spec.match(code); got != want {
			t.Errorf("match(%d) = %v, want %v", code, got, want)
		}
	}
	if !statusSpec(nil).match(204) || statusSpec(nil).match(302) {
		t.Error("empty spec must mean 2xx")
	}
	for _, bad := range []string{"", "2", "6xx", "0xx", "99", "600", "abc", "300-200", "2xx-3xx", "20x", "2000"} {
		if _, err := parseStatusSpec([]string{bad}); err == nil {
			t.Errorf("parseStatusSpec(%q) accepted", bad)
		}
	}
}

func TestJSONPath(t *testing.T) {
	for _, good := range []string{"status", "$.status", "checks.db.0.ok", "a-b_c"} {
		if _, err := parseJSONPath(good); err != nil {
			t.Errorf("parseJSONPath(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", "$.", ".status", "status.", "a..b", "a b", "a[0]", "$", "*"} {
		if _, err := parseJSONPath(bad); err == nil {
			t.Errorf("parseJSONPath(%q) accepted", bad)
		}
	}
	body := []byte(`{"status":"healthy","n":3,"ok":true,"items":[{"up":false}],"nil":null}`)
	for path, want := range map[string]string{"status": "healthy", "n": "3", "ok": "true", "items.0.up": "false", "nil": "null"} {
		p, _ := parseJSONPath(path)
		if err := checkJSON(body, p, want); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	p, _ := parseJSONPath("items.1.up")
	if err := checkJSON(body, p, "false"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("out-of-range index: %v", err)
	}
}

func FuzzParseStatusSpec(f *testing.F) {
	for _, s := range []string{"200", "2xx", "200-399", "5XX", "600", "-", "1xx-2xx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := parseStatusSpec([]string{s})
		if err != nil {
			return
		}
		for _, r := range spec {
			if r.lo < 100 || r.hi > 599 || r.lo > r.hi {
				t.Fatalf("%q gave range %v", s, r)
			}
		}
	})
}

func FuzzParseJSONPath(f *testing.F) {
	for _, s := range []string{"status", "$.a.b", "a..b", "items.0", ""} {
		f.Add(s, `{"status":"healthy","a":{"b":[1]}}`)
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := parseJSONPath(path)
		if err != nil {
			return
		}
		if len(p) == 0 {
			t.Fatalf("%q: empty path accepted", path)
		}
		for _, seg := range p {
			if seg == "" {
				t.Fatalf("%q: empty segment accepted", path)
			}
		}
		_ = checkJSON([]byte(doc), p, "x") // must not panic
	})
}
