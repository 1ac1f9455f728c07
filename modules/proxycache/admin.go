package proxycache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adminapi"
)

func init() {
	caddy.RegisterModule(Admin{})
}

// Admin is the admin API of proxy_cache (module admin.api.proxy_cache). It
// works on the zones of the running config, looked up at request time:
//
//	GET  /proxy_cache/stats   counts and sizes per zone
//	POST /proxy_cache/purge   {"zone": "...", "key"|"url"|"prefix"|"tag": "..."}
//	POST /proxy_cache/flush   {"zone": "..."} (or no body: every zone)
//
// "zone" is optional in both POSTs (default: every zone); zone names are
// as /proxy_cache/stats shows them, e.g. "memory/api_cache". A purge or
// flush that a storage could not carry out in full answers 500 (entries it
// could not remove, which stay stored) or 502 (a storage that did not
// answer) with a purgeFailure body.
type Admin struct{}

// CaddyModule returns the Caddy module information.
func (Admin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.proxy_cache",
		New: func() caddy.Module { return new(Admin) },
	}
}

// Routes returns the admin routes.
func (a Admin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		adminapi.Route("/proxy_cache/stats", a.stats, http.MethodGet),
		adminapi.Route("/proxy_cache/purge", a.purge, http.MethodPost),
		adminapi.Route("/proxy_cache/flush", a.flush, http.MethodPost),
	}
}

// ZoneStats is one zone in GET /proxy_cache/stats.
// The request counts are by X-Cache-Status value, for the life of the
// process.
type ZoneStats struct {
	// Hits answered from storage while fresh (HIT).
	Hits int64 `json:"hits"`
	// Misses: nothing usable stored (MISS).
	Misses int64 `json:"misses"`
	// Expired: a stored entry was refetched in full (EXPIRED).
	Expired int64 `json:"expired"`
	// Stale: a stale entry answered (STALE).
	Stale int64 `json:"stale"`
	// Updating: a stale entry answered while another request refreshed it
	// (UPDATING).
	Updating int64 `json:"updating"`
	// Revalidated: the origin confirmed a stored entry with 304
	// (REVALIDATED).
	Revalidated int64 `json:"revalidated"`
	// Bypass: requests that skipped the lookup (BYPASS).
	Bypass int64 `json:"bypass"`
	// Stored: responses written to the storage.
	Stored int64 `json:"stored"`
	// Objects and Bytes are absent for storages that do not know them
	// (redis).
	Objects *int   `json:"objects,omitempty"`
	Bytes   *int64 `json:"bytes,omitempty"`
	// MaxBytes is the storage's max_size (memory and disk storages).
	MaxBytes *int64 `json:"max_bytes,omitempty"`
	// StorageErrors counts the storage operations that failed, by op
	// ("get", "put", "purge", "evict"); absent when none did.
	StorageErrors map[string]int64 `json:"storage_errors,omitempty"`
	// LocalTier describes a redis storage's local tier; absent without one.
	LocalTier *LocalTierStats `json:"local_tier,omitempty"`
}

// LocalTierStats is the state of a redis storage's local memory tier.
type LocalTierStats struct {
	// Objects and Bytes are what the tier holds now.
	Objects int   `json:"objects"`
	Bytes   int64 `json:"bytes"`
	// Usable says whether the tier answers: subscribed, and Redis heard
	// from within the staleness bound.
	Usable bool `json:"usable"`
}

func (Admin) stats(w http.ResponseWriter, r *http.Request) error {
	return adminapi.WriteJSON(w, map[string]any{"zones": allZoneStats()})
}

// allZoneStats is every live zone's ZoneStats, by zone name.
func allZoneStats() map[string]ZoneStats {
	names, storages, stats := liveZones()
	out := make(map[string]ZoneStats, len(names))
	for i, n := range names {
		out[n] = zoneStatsOf(storages[i], stats[i])
	}
	return out
}

// zoneStatsOf is one zone's ZoneStats.
func zoneStatsOf(s Storage, st *zoneStats) ZoneStats {
	z := ZoneStats{Hits: st.get(labelHit), Misses: st.get(labelMiss), Expired: st.get(labelExpired),
		Stale: st.get(labelStale), Updating: st.get(labelUpdating), Revalidated: st.get(labelRevalidated),
		Bypass: st.get(labelBypass), Stored: st.stored.Load()}
	if sz, ok := s.(sizer); ok {
		keys, bytes := sz.Stats()
		z.Objects, z.Bytes = &keys, &bytes
	}
	if max := maxBytesOf(s); max > 0 {
		z.MaxBytes = &max
	}
	if f, ok := s.(faultReporter); ok {
		if errs := f.storageFaults().errorCounts(); len(errs) > 0 {
			z.StorageErrors = errs
		}
	}
	if rs, ok := s.(*RedisStorage); ok && rs.local != nil {
		z.LocalTier = rs.local.stats()
	}
	return z
}

// maxBytesOf is a storage's max_size, or 0 when it has none.
func maxBytesOf(s Storage) int64 {
	switch s := s.(type) {
	case *MemoryStorage:
		return s.MaxSize
	case *DiskStorage:
		return s.MaxSize
	}
	return 0
}

// purgeRequest is the body of POST /proxy_cache/purge.
type purgeRequest struct {
	Zone   string `json:"zone,omitempty"`
	Key    string `json:"key,omitempty"`
	URL    string `json:"url,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Tag    string `json:"tag,omitempty"`
}

func (Admin) purge(w http.ResponseWriter, r *http.Request) error {
	var req purgeRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	total, fail, err := purgeZones(req)
	if err != nil {
		return err
	}
	if fail.Zones != nil {
		return fail.write(w, "purge", total)
	}
	return adminapi.WriteJSON(w, map[string]int{"purged": total})
}

// purgeZones carries out a purge request on its zones: how many entries it
// removed, the zones where it failed, or an error (an APIError) for a
// request it refuses.
func purgeZones(req purgeRequest) (int, purgeFailure, error) {
	var fail purgeFailure
	set := 0
	for _, v := range []string{req.Key, req.URL, req.Prefix, req.Tag} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return 0, fail, badRequest("give exactly one of key, url, prefix, tag")
	}
	names, zones, err := selectZones(req.Zone)
	if err != nil {
		return 0, fail, err
	}
	if req.Key == "" && req.URL == "" {
		for _, s := range zones {
			if _, ok := s.(Purger); !ok {
				return 0, fail, badRequest("a storage cannot purge by prefix or tag")
			}
		}
	}
	total := 0
	for i, s := range zones {
		n, err := purgeZone(s, req)
		total += n
		fail.add(names[i], n, err)
	}
	return total, fail, nil
}

// purgeZone carries out a purge request on one zone's storage.
func purgeZone(s Storage, req purgeRequest) (int, error) {
	switch {
	case req.Key != "":
		vs, err := s.Get(req.Key)
		if err != nil || vs == nil {
			return 0, err
		}
		if err := s.Delete(req.Key); err != nil {
			return 0, err
		}
		return 1, nil
	case req.URL != "":
		return s.PurgeURL(req.URL)
	case req.Prefix != "":
		return s.(Purger).PurgePrefix(req.Prefix)
	default:
		return s.(Purger).PurgeTag(req.Tag)
	}
}

// purgeFailure is the body of a purge or flush that did not happen in full:
//
//	{"error": "purge incomplete: disk//var/cache/fd: 3 of 5 entries could not be removed: ...",
//	 "purged": 2, "failed": 3,
//	 "zones": {"disk//var/cache/fd": {"purged": 2, "failed": 3, "error": "..."}}}
//
// "purged" and "failed" count entries; "failed" is absent where a storage
// did not answer at all (it cannot tell). A flush also lists the zones it
// did flush.
type purgeFailure struct {
	Error   string                 `json:"error"`
	Purged  int                    `json:"purged"`
	Failed  int                    `json:"failed,omitempty"`
	Flushed []string               `json:"flushed,omitempty"`
	Zones   map[string]zoneFailure `json:"zones"`

	status int
}

// zoneFailure is one zone in a purgeFailure.
type zoneFailure struct {
	Purged int    `json:"purged"`
	Failed int    `json:"failed,omitempty"`
	Error  string `json:"error"`
}

// add records a zone's outcome: nothing when err is nil.
func (f *purgeFailure) add(zone string, purged int, err error) {
	if err == nil {
		return
	}
	if f.Zones == nil {
		f.Zones = map[string]zoneFailure{}
	}
	zf := zoneFailure{Purged: purged, Error: err.Error()}
	status := http.StatusBadGateway // the storage did not answer
	var pe *PurgeError
	if errors.As(err, &pe) {
		zf.Failed, zf.Purged = pe.Failed, pe.Removed
		status = http.StatusInternalServerError // it answered: the entries are still there
	}
	f.Zones[zone] = zf
	f.Failed += zf.Failed
	f.status = max(f.status, status)
	if f.Error == "" {
		f.Error = zone + ": " + err.Error()
	} else {
		f.Error += "; " + zone + ": " + err.Error()
	}
}

// write answers with the failure and logs it as Caddy's admin API logs its
// errors.
func (f *purgeFailure) write(w http.ResponseWriter, what string, purged int) error {
	f.Purged = purged
	f.Error = what + " incomplete: " + f.Error
	caddy.Log().Named("admin.api").Error("request error", zap.String("error", f.Error),
		zap.Int("purged", f.Purged), zap.Int("failed", f.Failed), zap.Int("status_code", f.status))
	return adminapi.WriteJSONStatus(w, f.status, f)
}

func (Admin) flush(w http.ResponseWriter, r *http.Request) error {
	var req purgeRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	names, zones, err := selectZones(req.Zone)
	if err != nil {
		return err
	}
	for _, s := range zones {
		if _, ok := s.(Purger); !ok {
			return badRequest("a storage cannot be flushed")
		}
	}
	var fail purgeFailure
	flushed := []string{}
	purged := 0
	for i, s := range zones {
		err := s.(Purger).Flush()
		if err == nil {
			flushed = append(flushed, names[i])
			continue
		}
		var pe *PurgeError
		if errors.As(err, &pe) {
			purged += pe.Removed
		}
		fail.add(names[i], 0, err)
	}
	if fail.Zones != nil {
		fail.Flushed = flushed
		return fail.write(w, "flush", purged)
	}
	return adminapi.WriteJSON(w, map[string][]string{"flushed": flushed})
}

// selectZones returns the live zone called name, or every live zone when
// name is empty.
func selectZones(name string) ([]string, []Storage, error) {
	names, storages, _ := liveZones()
	if name == "" {
		return names, storages, nil
	}
	for i, n := range names {
		if n == name {
			return names[i : i+1], storages[i : i+1], nil
		}
	}
	return nil, nil, caddy.APIError{HTTPStatus: http.StatusNotFound,
		Err: fmt.Errorf("no live zone %q (zones: %s)", name, strings.Join(names, ", "))}
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return badRequest(err.Error())
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("bad JSON body: " + err.Error())
	}
	return nil
}

func badRequest(msg string) error {
	return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: errors.New(msg)}
}

// Interface guards.
var (
	_ caddy.AdminRouter = Admin{}
	_ Purger            = (*MemoryStorage)(nil)
	_ Purger            = (*DiskStorage)(nil)
	_ Purger            = (*RedisStorage)(nil)
)
