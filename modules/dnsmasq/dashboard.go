package dnsmasq

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	fdstats "github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// This file holds what the dashboard shows of the DNS app beyond its admin
// stats: the blocked share, top names and clients, the upstream servers
// used, and a live log of the last queries (Pi-hole's dashboard). The top
// lists and the log are bounded, and gathered only while a dashboard is
// loaded (fdstats.Watched); the blocked count always.

// Bounds of the dashboard's DNS figures.
const (
	queryLogSize = 200 // queries the live log keeps
	topTracked   = 200 // names and clients the top lists track
	topShown     = 10  // entries of each top list shown
	// topSample: one query in topSample goes to the top names and
	// clients, with that weight (the log and the servers take every one).
	// A sample costs two map updates under their mutexes, about 250
	// instructions: one in eight keeps them under 0.25% of a cached reply.
	topSample = 8
)

// logBlocked is the query log's source for an answer that blocks its name;
// other entries show the answer's own source.
const logBlocked answerSource = "blocked"

func init() {
	fdstats.Register(fdstats.SectionDNS, dashboardSection)
	fdstats.SetNameResolver(localAddresses)
}

// dash is the process-wide state of the dashboard's DNS figures; like the
// counters, it survives config reloads.
var dash = struct {
	blocked  atomic.Uint64
	names    *fdstats.TopK[string]
	clients  *fdstats.TopK[netip.Addr]
	servers  *fdstats.TopK[string]
	sample   *fdstats.Sampled // takes every Nth query the log numbers
	log      *fdstats.Ring[logEntry]
	resolver atomic.Pointer[resolver] // of the running config
}{
	names: fdstats.NewTopK(topTracked), clients: fdstats.NewTopKOf(topTracked, clientLabel), servers: fdstats.NewTopK(topTracked),
	sample: fdstats.NewSampled(topSample), log: fdstats.NewRing[logEntry](queryLogSize),
}

// QueryLogEntry is one query of the live log.
type QueryLogEntry struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	Name   string    `json:"name"`
	Type   string    `json:"type"`
	Rcode  string    `json:"rcode"`
	// Source is local, cache, upstream or blocked (a local answer that
	// blocks, see isBlocked), or none.
	Source string `json:"source"`
	// Server is the upstream server that answered, for source upstream.
	Server string `json:"server,omitempty"`
	// LatencyMS is how long the answer waited for an upstream server; 0
	// for answers from local data or the cache.
	LatencyMS float64 `json:"latency_ms"`
}

// logEntry is a QueryLogEntry as the ring keeps it: the reply's fields
// as they are, nothing made or changed (the time, the client's address,
// the type, the rcode, the name's case) until the log is read.
type logEntry struct {
	at     fdstats.Stamp
	client net.Addr // a fresh one per query (see udpPeer.remote), never changed
	qname  string   // the question's name as asked
	qtype  uint16
	rcode  int
	source answerSource
	server string
	took   time.Duration
}

// entry is the log entry as the dashboard shows it.
func (e *logEntry) entry() QueryLogEntry {
	return QueryLogEntry{Time: e.at.Time(), Client: clientLabel(clientAddr(e.client)), Name: canon(e.qname), Type: typeLabel(e.qtype), Rcode: dns.RcodeToString[e.rcode],
		Source: string(e.source), Server: e.server, LatencyMS: float64(e.took.Microseconds()) / 1000}
}

// clientLabel is a client as the log and the top clients show it.
func clientLabel(a netip.Addr) string {
	if !a.IsValid() {
		return "-"
	}
	return a.String()
}

// DashboardStats is the dashboard's DNS section: the admin API's stats and
// the figures of this file.
type DashboardStats struct {
	Stats
	// Blocked counts local answers that block a name (see isBlocked).
	Blocked uint64 `json:"blocked"`
	// TopNames and TopClients are the most queried names and the clients
	// that queried most since a dashboard was loaded.
	TopNames   []fdstats.Top `json:"top_names"`
	TopClients []fdstats.Top `json:"top_clients"`
	// Servers are the upstream servers that answered, most used first.
	Servers []fdstats.Top `json:"servers"`
	// Log is the last queries, newest first; LogTotal counts every query
	// logged since a dashboard was loaded.
	Log      []QueryLogEntry `json:"log"`
	LogTotal uint64          `json:"log_total"`
}

func dashboardSection() any {
	out := DashboardStats{Stats: currentStats(), Blocked: dash.blocked.Load(),
		TopNames: dash.names.Top(topShown), TopClients: dash.clients.Top(topShown), Servers: dash.servers.Top(topShown)}
	entries, total := dash.log.Last(queryLogSize)
	out.Log, out.LogTotal = make([]QueryLogEntry, len(entries)), total
	for i := range entries {
		out.Log[i] = entries[i].entry()
	}
	return out
}

// isBlocked reports whether an answer blocks its name, as Pi-hole counts
// it: an extended DNS error "Blocked", or a local answer whose addresses
// are all null (0.0.0.0 or ::, as address=/d/0.0.0.0 or # gives).
func isBlocked(a *answer) bool {
	if a.ede == dns.ExtendedErrorCodeBlocked {
		return true
	}
	if a.source != sourceLocal || len(a.answer) == 0 {
		return false
	}
	for _, rr := range a.answer {
		switch rr := rr.(type) {
		case *dns.A:
			if !unspecified(rr.A) {
				return false
			}
		case *dns.AAAA:
			if !unspecified(rr.AAAA) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// unspecified is ip.IsUnspecified() (0.0.0.0 in either form, or ::)
// without its two net.IP.Equal calls: isBlocked asks it of every local
// answer's addresses, watched or not.
func unspecified(ip net.IP) bool {
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	for _, b := range ip {
		if b != 0 {
			return false
		}
	}
	return len(ip) == net.IPv4len || len(ip) == net.IPv6len
}

// recordAnswer counts one reply for the dashboard: the blocked count
// always, the rest while one is watched (recordWatched).
func recordAnswer(req, m *dns.Msg, a *answer, client net.Addr) {
	blocked := isBlocked(a)
	if blocked {
		dash.blocked.Add(1)
	}
	if fdstats.Watched() {
		recordWatched(req, m, a, client, blocked)
	}
}

// recordWatched puts a reply in the query log and, one in topSample, the top
// lists. Nothing is made (no string, no address but a sample's client,
// the log entry written in its slot) and no clock read (the log's time is
// fdstats.CoarseNow).
func recordWatched(req, m *dns.Msg, a *answer, client net.Addr, blocked bool) {
	q := &req.Question[0]
	at := fdstats.CoarseNow()
	source, server := a.source, ""
	switch {
	case blocked:
		source = logBlocked
	case a.source == sourceUpstream:
		server = a.server
	}
	e, n := dash.log.Put() // its number picks the sample: no counter of its own
	// Field by field: *e = logEntry{...} would make the entry and copy it.
	e.at, e.client, e.qname, e.qtype, e.rcode = at, client, q.Name, q.Qtype, m.Rcode
	e.source, e.server, e.took = source, server, a.took
	dash.log.Done()
	if server != "" {
		dash.servers.Add(server) // every one: a forward costs a round trip anyway
	}
	if !dash.sample.Of(n) {
		return
	}
	w := dash.sample.Weight()
	dash.names.AddN(canon(q.Name), w)
	dash.clients.AddN(clientAddr(client), w)
}

// dashboardWantsClient says whether the UDP path must make the client's
// address for the dashboard's top clients and query log.
func dashboardWantsClient() bool { return fdstats.Watched() }

// localAddresses says how the running config answers host from local
// data: its hosts entries, a CNAME, or an address= line; nothing when the
// name would be forwarded.
func localAddresses(host string) []string {
	r := dash.resolver.Load()
	if r == nil {
		return nil
	}
	name := canon(host)
	var out []string
	if nd := r.store.names[name]; nd != nil {
		for _, e := range nd.addrs {
			out = append(out, e.Addr.String())
		}
		if nd.cname != nil {
			out = append(out, "CNAME "+nd.cname.Target)
		}
		if len(out) > 0 {
			return out
		}
	}
	var buf [8]*ruleSet
	for _, rs := range r.store.matches(name, buf[:0]) {
		switch {
		case len(rs.addrs) > 0:
			for _, a := range rs.addrs {
				out = append(out, a.String())
			}
			return out
		case rs.null:
			return []string{netip.IPv4Unspecified().String(), netip.IPv6Unspecified().String()}
		case rs.local || rs.nx:
			return []string{"NXDOMAIN"}
		}
	}
	return nil
}

// blockedDesc is the blocked count's series, collected at scrape time.
var blockedDesc = prometheus.NewDesc("frontdesk_dnsmasq_blocked_total",
	"Local answers that block a name: an extended DNS error Blocked, or only null addresses (0.0.0.0, ::).", nil, nil)

// dashCollector exports the dashboard's DNS figures that are metrics.
type dashCollector struct{}

// Describe implements prometheus.Collector.
func (dashCollector) Describe(ch chan<- *prometheus.Desc) { ch <- blockedDesc }

// Collect implements prometheus.Collector.
func (dashCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(blockedDesc, prometheus.CounterValue, float64(dash.blocked.Load()))
}
