package healthgate

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestUnmarshalPoolHandlerErrors(t *testing.T) {
	cases := []struct {
		input string
		want  string
	}{
		{"healthz {\n pools\n}", "healthz: pools: needs at least one pool name"},
		{"healthz {\n bogus\n}", `healthz: unknown option "bogus" (known: pools, min_healthy)`},
		{"healthz {\n min_healthy 1 2\n}", "healthz: min_healthy: want exactly one count"},
		{"health_status {\n pools\n}", "health_status: pools: needs at least one pool name"},
		{"health_status {\n bogus\n}", `health_status: unknown option "bogus" (known: pools, refresh)`},
		{"health_status {\n refresh\n}", "health_status: refresh: want exactly one duration"},
	}
	for _, c := range cases {
		var u caddyfile.Unmarshaler = new(Healthz)
		if strings.HasPrefix(c.input, "health_status") {
			u = new(StatusPage)
		}
		err := u.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Testfile:2") {
			t.Errorf("%q: error %v, want %q at Testfile:2", c.input, err, c.want)
		}
	}
}

func TestPoolFilter(t *testing.T) {
	all := poolFilter(nil)
	if !all("web") || !all("") {
		t.Error("no names: not every pool is selected")
	}
	some := poolFilter([]string{"web", "api"})
	if !some("web") || !some("api") || some("db") {
		t.Error("names: wrong selection")
	}
}
