package proxycache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
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
// as /proxy_cache/stats shows them, e.g. "memory/api_cache".
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
		{Pattern: "/proxy_cache/stats", Handler: caddy.AdminHandlerFunc(a.stats)},
		{Pattern: "/proxy_cache/purge", Handler: caddy.AdminHandlerFunc(a.purge)},
		{Pattern: "/proxy_cache/flush", Handler: caddy.AdminHandlerFunc(a.flush)},
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
}

func (Admin) stats(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	names, storages, stats := liveZones()
	out := map[string]ZoneStats{}
	for i, n := range names {
		st := stats[i]
		z := ZoneStats{Hits: st.get(labelHit), Misses: st.get(labelMiss), Expired: st.get(labelExpired),
			Stale: st.get(labelStale), Updating: st.get(labelUpdating), Revalidated: st.get(labelRevalidated),
			Bypass: st.get(labelBypass), Stored: st.stored.Load()}
		if s, ok := storages[i].(sizer); ok {
			keys, bytes := s.Stats()
			z.Objects, z.Bytes = &keys, &bytes
		}
		out[n] = z
	}
	return writeJSON(w, map[string]any{"zones": out})
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
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	var req purgeRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	set := 0
	for _, v := range []string{req.Key, req.URL, req.Prefix, req.Tag} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return badRequest("give exactly one of key, url, prefix, tag")
	}
	zones, err := selectZones(req.Zone)
	if err != nil {
		return err
	}
	total := 0
	for _, s := range zones {
		var n int
		var err error
		switch {
		case req.Key != "":
			var vs []*Entry
			if vs, err = s.Get(req.Key); err == nil && vs != nil {
				err, n = s.Delete(req.Key), 1
			}
		case req.URL != "":
			n, err = s.PurgeURL(req.URL)
		default:
			p, ok := s.(Purger)
			if !ok {
				return badRequest("a storage cannot purge by prefix or tag")
			}
			if req.Prefix != "" {
				n, err = p.PurgePrefix(req.Prefix)
			} else {
				n, err = p.PurgeTag(req.Tag)
			}
		}
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadGateway, Err: err}
		}
		total += n
	}
	return writeJSON(w, map[string]int{"purged": total})
}

func (Admin) flush(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	var req purgeRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	names, _, _ := liveZones()
	zones, err := selectZones(req.Zone)
	if err != nil {
		return err
	}
	for _, s := range zones {
		p, ok := s.(Purger)
		if !ok {
			return badRequest("a storage cannot be flushed")
		}
		if err := p.Flush(); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadGateway, Err: err}
		}
	}
	if req.Zone != "" {
		names = []string{req.Zone}
	}
	return writeJSON(w, map[string][]string{"flushed": names})
}

func selectZones(name string) ([]Storage, error) {
	names, storages, _ := liveZones()
	if name == "" {
		return storages, nil
	}
	for i, n := range names {
		if n == name {
			return []Storage{storages[i]}, nil
		}
	}
	return nil, caddy.APIError{HTTPStatus: http.StatusNotFound,
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

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

// Interface guards.
var (
	_ caddy.AdminRouter = Admin{}
	_ Purger            = (*MemoryStorage)(nil)
	_ Purger            = (*DiskStorage)(nil)
	_ Purger            = (*RedisStorage)(nil)
)
