package healthgate

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestUnmarshalSource(t *testing.T) {
	d := caddyfile.NewTestDispenser(`healthgate web {
		to 127.0.0.1:8081 weight 3 127.0.0.1:8082
		to 127.0.0.1:8083
		backup 127.0.0.1:8084
		down 127.0.0.1:8083
		uri /status
		method head
		host api.local
		interval 1s
		timeout 500ms
		expect_status 2xx 301
		expect_body "^ok"
		expect_json status healthy
		max_body 1KiB
		follow_redirects
		rise 1
		fall 4
		initially healthy
	}`)
	var s Source
	if err := s.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	want := []Member{{Dial: "127.0.0.1:8081", Weight: 3}, {Dial: "127.0.0.1:8082"}, {Dial: "127.0.0.1:8083", Down: true}, {Dial: "127.0.0.1:8084", Backup: true}}
	if len(s.Upstreams) != len(want) {
		t.Fatalf("upstreams %+v", s.Upstreams)
	}
	for i := range want {
		if s.Upstreams[i] != want[i] {
			t.Errorf("upstream %d: %+v, want %+v", i, s.Upstreams[i], want[i])
		}
	}
	if s.Pool != "web" || s.URI != "/status" || s.Method != "HEAD" || s.Host != "api.local" || s.Rise != 1 || s.Fall != 4 ||
		!s.InitiallyHealthy || !s.FollowRedirects || s.MaxBody != 1024 || s.ExpectJSON.Path != "status" || s.ExpectBody != "^ok" {
		t.Errorf("parsed %+v", s)
	}
	if _, err := s.compile(); err != nil {
		t.Errorf("compile: %v", err)
	}
}

func TestUnmarshalSourceErrors(t *testing.T) {
	cases := map[string]string{
		"to 127.0.0.1":                         "want host:port",
		"to 127.0.0.1:0":                       "one port between 1 and 65535",
		"to 127.0.0.1:80-81":                   "host:port",
		"to http://127.0.0.1:80":               "host:port",
		"to 127.0.0.1:80 weight":               "needs a number",
		"to 127.0.0.1:80 weight 0":             "weight of 127.0.0.1:80",
		"to 127.0.0.1:80 127.0.0.1:80":         "listed twice",
		"to 127.0.0.1:80\ndown 127.0.0.1:81":   "not listed with to or backup",
		"to 127.0.0.1:80\ninterval 5x":         "interval: bad duration",
		"to 127.0.0.1:80\ntimeout -1s":         "timeout: must be positive",
		"to 127.0.0.1:80\nrise 0":              "rise: must be a whole number",
		"to 127.0.0.1:80\nfall 0":              "fall: must be a whole number",
		"to 127.0.0.1:80\nexpect_body (":       "expect_body: error parsing regexp",
		"to 127.0.0.1:80\nexpect_json a..b ok": "empty segment",
		"to 127.0.0.1:80\nexpect_status 6xx":   "expect_status",
		"to 127.0.0.1:80\nuri healthz":         "uri: want exactly one path",
		"to 127.0.0.1:80\ninitially maybe":     "initially: want healthy or gated",
		"to 127.0.0.1:80\nbogus":               "unknown option \"bogus\"",
		"uri /x":                               "no upstreams",
	}
	for body, want := range cases {
		d := caddyfile.NewTestDispenser("healthgate web {\n" + body + "\n}")
		var s Source
		err := s.UnmarshalCaddyfile(d)
		if err == nil {
			t.Errorf("%q: accepted", body)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Testfile:") {
			t.Errorf("%q: error %q, want it to contain %q and the file:line", body, err, want)
		}
	}
}

func TestUnmarshalHealthz(t *testing.T) {
	var h Healthz
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser("healthz web {\n pools api\n min_healthy 2\n}")); err != nil {
		t.Fatal(err)
	}
	if strings.Join(h.Pools, ",") != "web,api" || h.MinHealthy != 2 {
		t.Errorf("parsed %+v", h)
	}
	if err := (&Healthz{}).UnmarshalCaddyfile(caddyfile.NewTestDispenser("healthz {\n min_healthy 0\n}")); err == nil {
		t.Error("min_healthy 0 accepted")
	}
}

// TestJSONAndCaddyfileAgree feeds the same bad values to the Caddyfile and to
// JSON (compile): both must refuse them with the same words.
func TestJSONAndCaddyfileAgree(t *testing.T) {
	ok := Member{Dial: "127.0.0.1:80"}
	for _, c := range []struct {
		block string
		src   Source
		want  string
	}{
		{"rise 1001", Source{Rise: 1001}, "rise: must be a whole number from 1 to 1000, got 1001"},
		{"fall 2000", Source{Fall: 2000}, "fall: must be a whole number from 1 to 1000, got 2000"},
		{"uri healthz", Source{URI: "healthz"}, `uri: want exactly one path starting with /, got "healthz"`},
		{"method GE(T", Source{Method: "GE(T"}, `method: want one HTTP method, got "GE(T"`},
		{"max_body 2g", Source{MaxBody: 2 << 30}, "max_body: want a size from 1 byte to 1GiB"},
		{"to 127.0.0.1:81 weight 101", Source{Upstreams: []Member{{Dial: "127.0.0.1:81", Weight: 101}}}, "weight of 127.0.0.1:81 must be a whole number from 1 to 100, got 101"},
	} {
		d := caddyfile.NewTestDispenser("healthgate web {\nto 127.0.0.1:80\n" + c.block + "\n}")
		var s Source
		if err := s.UnmarshalCaddyfile(d); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Caddyfile %q: error %v, want it to contain %q", c.block, err, c.want)
		}
		src := c.src
		src.Upstreams = append([]Member{ok}, src.Upstreams...)
		if _, err := src.compile(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("JSON for %q: error %v, want it to contain %q", c.block, err, c.want)
		}
	}
}
