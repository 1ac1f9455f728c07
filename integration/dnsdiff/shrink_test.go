package dnsdiff

import (
	"testing"
	"time"
)

func TestClearOfSecond(t *testing.T) {
	base := time.Unix(1000, 0)
	start := time.Now()
	clearOfSecond(base.Add(500 * time.Millisecond))
	if d := time.Since(start); d > 5*time.Millisecond {
		t.Errorf("mid-second: waited %v", d)
	}
	start = time.Now()
	clearOfSecond(base.Add(995 * time.Millisecond))
	if d := time.Since(start); d < 5*time.Millisecond {
		t.Errorf("5 ms before the second: waited only %v", d)
	}
	for _, c := range []struct {
		config, zone []string
		want         bool
	}{
		{nil, []string{"a.test. 1 IN A 10.0.0.1"}, true},
		{nil, []string{"a.test. 2 IN A 10.0.0.1"}, false},
		{[]string{"max-ttl=1"}, nil, true},
		{[]string{"neg-ttl=0"}, nil, true},
		{[]string{"max-cache-ttl=5"}, nil, false},
		{[]string{"local-ttl=1"}, nil, false},
	} {
		if got := secondTTLs(&Case{Config: c.config, Zone: c.zone}); got != c.want {
			t.Errorf("secondTTLs(%q, %q) = %v, want %v", c.config, c.zone, got, c.want)
		}
	}
}
