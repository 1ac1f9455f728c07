package proxycache

import (
	"errors"
	"net/http"
	"testing"

	fdstats "github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// TestDashboardSection: the cache section is the admin stats of each zone
// with its max_size and its most hit keys (while a dashboard is loaded),
// and the dashboard's purge removes entries as the admin API's does.
func TestDashboardSection(t *testing.T) {
	h := newHandler(t, `{"storage":{"module":"memory","zone":"dash-test","max_size":1048576}}`)
	o := &origin{}
	o.serve = func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte(r.URL.Path))
		return nil
	}
	stop := fdstats.Watch()
	defer stop()
	// One miss each, then 8 × 8 hits on /a and 2 × 8 on /b: one hit in 8
	// is sampled, with weight 8.
	send(t, h, o, "GET", "/a")
	send(t, h, o, "GET", "/b")
	for i := range 80 {
		p := "/a"
		if i >= 64 {
			p = "/b"
		}
		send(t, h, o, "GET", p)
	}
	var zone *DashboardZone
	for _, z := range dashboardSection().([]DashboardZone) {
		if z.Name == "memory/dash-test" {
			zone = &z
		}
	}
	if zone == nil {
		t.Fatal("no zone memory/dash-test in the section")
	}
	if zone.Hits != 80 || zone.Misses != 2 || zone.Objects == nil || *zone.Objects != 2 {
		t.Errorf("zone %+v, want 80 hits, 2 misses, 2 objects", zone.ZoneStats)
	}
	if zone.MaxBytes == nil || *zone.MaxBytes != 1<<20 {
		t.Errorf("max bytes %v, want 1048576", zone.MaxBytes)
	}
	want := []fdstats.Top{{Key: "GEThttpexample.com/a", Count: 64}, {Key: "GEThttpexample.com/b", Count: 16}}
	if len(zone.TopKeys) != 2 || zone.TopKeys[0] != want[0] || zone.TopKeys[1] != want[1] {
		t.Errorf("top keys %v, want %v", zone.TopKeys, want)
	}

	n, ok, err := fdstats.Purge(fdstats.PurgeRequest{Zone: "memory/dash-test", Prefix: "http://example.com/"})
	if n != 2 || !ok || err != nil {
		t.Errorf("purge by prefix: %d %v %v, want 2 purged", n, ok, err)
	}
	if xcs(send(t, h, o, "GET", "/a")) != labelMiss {
		t.Error("/a still cached after the purge")
	}
	for _, bad := range []fdstats.PurgeRequest{{Zone: "memory/dash-test"}, {Zone: "no-such-zone", Key: "k"}} {
		if _, _, err := fdstats.Purge(bad); !errors.As(err, new(fdstats.BadRequest)) {
			t.Errorf("purge %+v: %v, want a BadRequest", bad, err)
		}
	}
}
