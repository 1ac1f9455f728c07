package proxycache

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"

	fdstats "github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// This file holds what the dashboard shows of the cache: each live zone's
// admin stats and its most hit keys, and the purge the dashboard's form
// carries out. The top keys are counted only while a dashboard is loaded
// (fdstats.Watched), in bounded memory.

// Bounds of the top keys.
const (
	topKeysTracked = 200 // keys each zone's top list tracks
	topKeysShown   = 10  // keys shown per zone
	// topKeysSample: one hit in topKeysSample is counted, with that
	// weight, so that the others pay one atomic add and no key string.
	topKeysSample = 8
)

func init() {
	fdstats.Register(fdstats.SectionCache, dashboardSection)
	fdstats.SetPurger(dashboardPurge)
}

// DashboardZone is one zone of the dashboard's cache section.
type DashboardZone struct {
	// Name is the zone's name, as /proxy_cache/stats shows it.
	Name string `json:"name"`
	ZoneStats
	// TopKeys are the keys with the most hits since a dashboard was
	// loaded.
	TopKeys []fdstats.Top `json:"top_keys"`
}

func dashboardSection() any {
	names, storages, stats := liveZones()
	out := make([]DashboardZone, len(names))
	for i, n := range names {
		out[i] = DashboardZone{Name: n, ZoneStats: zoneStatsOf(storages[i], stats[i]), TopKeys: stats[i].topKeys.Top(topKeysShown)}
	}
	return out
}

// sampleHit says whether to count this hit in the zone's top keys: while
// a dashboard is loaded, one hit in topKeysSample. writeStatus asks for
// the hits it is given a key for; the fast hit path, which makes no key
// string without cache_status_key, asks itself.
func (z *zoneStats) sampleHit() bool {
	return fdstats.Watched() && z.hitSample.Take()
}

// countHit counts a sampled hit on key.
func (z *zoneStats) countHit(key string) {
	z.topKeys.AddN(key, z.hitSample.Weight())
}

// dashboardPurge carries out the dashboard's purge as POST
// /proxy_cache/purge does.
func dashboardPurge(req fdstats.PurgeRequest) (int, error) {
	n, fail, err := purgeZones(purgeRequest{Zone: req.Zone, Key: req.Key, URL: req.URL, Prefix: req.Prefix, Tag: req.Tag})
	var ae caddy.APIError
	switch {
	case errors.As(err, &ae) && ae.HTTPStatus < http.StatusInternalServerError:
		return 0, fdstats.BadRequest{Msg: ae.Err.Error()}
	case err != nil:
		return 0, err
	case fail.Zones != nil:
		return n, fmt.Errorf("purge incomplete: %s", fail.Error)
	}
	return n, nil
}

// StatsZone names the handler's zone for the dashboard's site map.
func (h *Handler) StatsZone() string { return h.zone }
