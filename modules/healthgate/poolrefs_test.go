package healthgate

import "testing"

func TestConfigFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "--config", "a.Caddyfile"}, "a.Caddyfile"},
		{[]string{"run", "--config=b"}, "b"},
		{[]string{"adapt", "-c", "c", "--pretty"}, "c"},
		{[]string{"run", "--adapter", "caddyfile"}, ""},
		{[]string{"run", "--config"}, ""},
	} {
		if got := configFlag(c.args); got != c.want {
			t.Errorf("configFlag(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}
