package dnsmasq

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/caddyserver/caddy/v2"
	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adminapi"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI is the `admin.api.dnsmasq` admin module: live records, cache
// flush and statistics of the running dnsmasq app.
//
//	GET    /dnsmasq/stats          counters and cache state
//	GET    /dnsmasq/records        live records and the configured local names
//	POST   /dnsmasq/records        {"records": ["name TTL IN TYPE data", ...]} adds live records
//	DELETE /dnsmasq/records        same body; removes them (TTL ignored)
//	POST   /dnsmasq/cache/flush    empties the cache
type AdminAPI struct {
	ctx caddy.Context
}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.dnsmasq",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Provision keeps the context to find the running app at request time.
func (a *AdminAPI) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	return nil
}

// Routes returns the admin routes.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		adminapi.Route("/dnsmasq/stats", a.stats, http.MethodGet),
		adminapi.Route("/dnsmasq/records", a.records, http.MethodGet, http.MethodPost, http.MethodDelete),
		adminapi.Route("/dnsmasq/cache/flush", a.flush, http.MethodPost),
	}
}

// Stats is the body of GET /dnsmasq/stats. Counters count since the
// process started (they survive config reloads).
type Stats struct {
	// Queries is the number of queries answered or dropped.
	Queries uint64 `json:"queries"`
	// Local counts answers from local data (records, hosts, address=...).
	Local uint64 `json:"local"`
	// Cached counts answers from the cache.
	Cached uint64 `json:"cached"`
	// Forwarded counts answers from an upstream server.
	Forwarded uint64 `json:"forwarded"`
	// UpstreamFailures counts queries no upstream server answered (SERVFAIL).
	UpstreamFailures uint64 `json:"upstream_failures"`
	// Malformed counts queries answered FORMERR.
	Malformed uint64 `json:"malformed"`
	// CacheEntries is the number of cached answers now.
	CacheEntries int `json:"cache_entries"`
	// CacheSize is the bound set by cache-size.
	CacheSize int `json:"cache_size"`
	// CacheHits and CacheMisses count cache lookups.
	CacheHits   uint64 `json:"cache_hits"`
	CacheMisses uint64 `json:"cache_misses"`
	// CacheInserts and CacheEvictions count entries stored and evicted
	// because the cache was full.
	CacheInserts   uint64 `json:"cache_inserts"`
	CacheEvictions uint64 `json:"cache_evictions"`
	// LiveRecords is the number of records added through the admin API.
	LiveRecords int `json:"live_records"`
}

func currentStats() Stats {
	cache, st := sharedState()
	cache.mu.Lock()
	s := Stats{CacheEntries: cache.ll.Len(), CacheSize: cache.size, CacheHits: cache.hits, CacheMisses: cache.misses,
		CacheInserts: cache.inserts, CacheEvictions: cache.evictions}
	cache.mu.Unlock()
	s.Queries, s.Local, s.Cached = st.queries.Load(), st.local.Load(), st.cached.Load()
	s.Forwarded, s.UpstreamFailures, s.Malformed = st.forwarded.Load(), st.upstreamFailures.Load(), st.malformed.Load()
	s.LiveRecords = len(liveRecords.list())
	return s
}

func (a *AdminAPI) stats(w http.ResponseWriter, r *http.Request) error {
	return adminapi.WriteJSON(w, currentStats())
}

func (a *AdminAPI) flush(w http.ResponseWriter, r *http.Request) error {
	cache, _ := sharedState()
	n := cache.Len()
	cache.Flush()
	return adminapi.WriteJSON(w, map[string]int{"flushed": n})
}

// recordsBody is the body of POST and DELETE /dnsmasq/records.
type recordsBody struct {
	// Records in zone-file syntax, e.g. "myapp.local. 60 IN A 127.0.0.1".
	Records []string `json:"records"`
}

func (a *AdminAPI) records(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodGet {
		return adminapi.WriteJSON(w, a.listRecords())
	}
	rrs, err := decodeRecords(w, r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodPost {
		liveRecords.add(rrs)
		return adminapi.WriteJSON(w, map[string]int{"added": len(rrs)})
	}
	return adminapi.WriteJSON(w, map[string]int{"removed": liveRecords.remove(rrs)})
}

// listRecords is the body of GET /dnsmasq/records: the live records and,
// while the app runs, its configured local names.
func (a *AdminAPI) listRecords() map[string][]string {
	out := map[string][]string{"live": liveRecords.list()}
	if app, err := a.ctx.AppIfConfigured("dnsmasq"); err == nil && app != nil {
		if d, ok := app.(*App); ok && d.resolver != nil {
			var names []string
			for n := range d.resolver.store.names {
				names = append(names, n)
			}
			sort.Strings(names)
			out["local_names"] = names
		}
	}
	return out
}

// decodeRecords reads the recordsBody of a POST or DELETE.
func decodeRecords(w http.ResponseWriter, r *http.Request) ([]dns.RR, error) {
	var body recordsBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		return nil, caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("decoding body: %w", err)}
	}
	var rrs []dns.RR
	for _, s := range body.Records {
		rr, err := dns.NewRR(s)
		if err != nil || rr == nil {
			return nil, caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("bad record %q: %v", s, err)}
		}
		if rr.Header().Class != dns.ClassINET || rr.Header().Rrtype == dns.TypeOPT {
			return nil, caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("bad record %q: only class IN data records", s)}
		}
		rrs = append(rrs, rr)
	}
	return rrs, nil
}

var (
	_ caddy.AdminRouter = (*AdminAPI)(nil)
	_ caddy.Provisioner = (*AdminAPI)(nil)
)
