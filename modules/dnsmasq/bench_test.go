package dnsmasq

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
	fdstats "github.com/frontdesk-proxy/frontdesk/modules/internal/stats"
)

// The benchmarks drive the real query path as miekg/dns's UDP server does:
// a packed query is unpacked into a fresh dns.Msg, handed to the handler,
// and the reply is packed by the ResponseWriter (WriteMsg) or written
// already packed (Write).

// benchWriter is a UDP ResponseWriter that packs like miekg's and keeps the
// last reply.
type benchWriter struct {
	remote net.Addr
	out    []byte
}

func (w *benchWriter) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (w *benchWriter) RemoteAddr() net.Addr { return w.remote }
func (w *benchWriter) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	w.out = append(w.out[:0], b...)
	return nil
}
func (w *benchWriter) Write(b []byte) (int, error) {
	w.out = append(w.out[:0], b...)
	return len(b), nil
}
func (w *benchWriter) Close() error        { return nil }
func (w *benchWriter) TsigStatus() error   { return nil }
func (w *benchWriter) TsigTimersOnly(bool) {}
func (w *benchWriter) Hijack()             {}

// benchResolver runs the dnsperf benchmark's configuration
// (integration/bench/dns.go) with an upstream that is never reached.
func benchResolver(tb testing.TB, extra ...string) *resolver {
	var lines []Line
	for _, l := range append([]string{"no-hosts", "no-resolv", "cache-size=10000", "address=/bench.local/127.0.0.1", "server=127.0.0.1#1"}, extra...) {
		lines = append(lines, Line{Text: l})
	}
	c, err := ParseLines(lines)
	if err != nil {
		tb.Fatal(err)
	}
	cache := newCache(c.CacheSize)
	return &resolver{cfg: c, store: newStore(c, nil), cache: cache, fwd: &forwarder{Client: exchange.Client{Timeout: time.Second}},
		defaults: c.Servers, log: zap.NewNop(), stats: &stats{}}
}

func packedQuery(tb testing.TB, name string, qtype uint16, edns bool) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	b, err := m.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// serveBench answers the packed query b.N times and checks the reply.
func serveBench(b *testing.B, r *resolver, query []byte, check func(*dns.Msg)) {
	h := &handler{}
	h.current.Store(r)
	w := &benchWriter{remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
	serve := func() {
		req := new(dns.Msg)
		if err := req.Unpack(query); err != nil {
			b.Fatal(err)
		}
		h.ServeDNS(w, req)
	}
	serve()
	reply := new(dns.Msg)
	if err := reply.Unpack(w.out); err != nil {
		b.Fatal(err)
	}
	check(reply)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve()
	}
}

func wantA(b *testing.B, name, ip string, aa bool) func(*dns.Msg) {
	return func(m *dns.Msg) {
		if m.Rcode != dns.RcodeSuccess || m.Authoritative != aa || len(m.Answer) != 1 || m.Answer[0].Header().Name != name {
			b.Fatalf("bad reply %v", m)
		}
		if a, ok := m.Answer[0].(*dns.A); !ok || a.A.String() != ip {
			b.Fatalf("bad reply %v", m)
		}
	}
}

func BenchmarkServeLocal(b *testing.B) {
	r := benchResolver(b)
	serveBench(b, r, packedQuery(b, "h1.bench.local.", dns.TypeA, false), wantA(b, "h1.bench.local.", "127.0.0.1", true))
}

func BenchmarkServeLocalEDNS(b *testing.B) {
	r := benchResolver(b)
	serveBench(b, r, packedQuery(b, "h1.bench.local.", dns.TypeA, true), wantA(b, "h1.bench.local.", "127.0.0.1", true))
}

func BenchmarkServeCachedForward(b *testing.B) {
	r := benchResolver(b)
	r.cache.put(cacheKey{"name42.upstream.test.", dns.TypeA}, dns.RcodeSuccess,
		[]dns.RR{mustRR("name42.upstream.test. 3600 IN A 127.0.0.1")}, nil, 3600)
	serveBench(b, r, packedQuery(b, "name42.upstream.test.", dns.TypeA, false), wantA(b, "name42.upstream.test.", "127.0.0.1", false))
}

func BenchmarkServeHostRecord(b *testing.B) {
	r := benchResolver(b, "host-record=host.bench.test,127.0.0.2")
	serveBench(b, r, packedQuery(b, "host.bench.test.", dns.TypeA, false), wantA(b, "host.bench.test.", "127.0.0.2", true))
}

// BenchmarkServeDashboard measures what the dashboard's DNS figures (top
// names and clients, the query log) add to a local and a cached answer:
// "off" without a dashboard loaded, "on" with one.
func BenchmarkServeDashboard(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		b.Run("local/"+mode, func(b *testing.B) {
			defer watchIf(mode == "on")()
			serveBench(b, benchResolver(b), packedQuery(b, "h1.bench.local.", dns.TypeA, false), wantA(b, "h1.bench.local.", "127.0.0.1", true))
		})
		b.Run("cached/"+mode, func(b *testing.B) {
			defer watchIf(mode == "on")()
			r := benchResolver(b)
			r.cache.put(cacheKey{"name42.upstream.test.", dns.TypeA}, dns.RcodeSuccess,
				[]dns.RR{mustRR("name42.upstream.test. 3600 IN A 127.0.0.1")}, nil, 3600)
			serveBench(b, r, packedQuery(b, "name42.upstream.test.", dns.TypeA, false), wantA(b, "name42.upstream.test.", "127.0.0.1", false))
		})
	}
}

// watchIf loads a dashboard (for the gathering) when on; the returned
// function unloads it.
func watchIf(on bool) func() {
	if !on {
		return func() {}
	}
	return fdstats.Watch()
}

// BenchmarkRecordAnswer is the dashboard's share of one answer alone
// (blocked check, query log, sampled top lists): "unwatched" without a
// dashboard, "expired" when the admin API's data was polled once long
// ago, "loaded" with a dashboard loaded (fdstats.Watch), "polled" with
// the admin API's data polled (fdstats.WatchFor), and "parallel" loaded
// with every P answering at once (the UDP readers do), for contention.
func BenchmarkRecordAnswer(b *testing.B) {
	req := new(dns.Msg)
	req.SetQuestion("h1.bench.local.", dns.TypeA)
	m := new(dns.Msg)
	m.SetReply(req)
	a := answer{source: sourceLocal, answer: []dns.RR{mustRR("h1.bench.local. 0 IN A 127.0.0.1")}}
	client := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	for _, mode := range []struct {
		name     string
		watch    func() (stop func())
		parallel bool
	}{
		{"unwatched", func() func() { return func() {} }, false},
		{"expired", func() func() { fdstats.WatchFor(-time.Second); return func() {} }, false},
		{"loaded", fdstats.Watch, false},
		{"polled", func() func() { fdstats.WatchFor(time.Hour); return func() { fdstats.WatchFor(-time.Second) } }, false},
		{"parallel", fdstats.Watch, true},
	} {
		b.Run(mode.name, func(b *testing.B) {
			defer mode.watch()()
			b.ReportAllocs()
			if mode.parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						recordAnswer(req, m, &a, client)
					}
				})
				return
			}
			for b.Loop() {
				recordAnswer(req, m, &a, client)
			}
		})
	}
}
