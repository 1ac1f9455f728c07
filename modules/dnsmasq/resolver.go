package dnsmasq

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/dnssec"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/pcap"
)

// resolver answers queries for one configuration: local data first, then
// the domain table, then the cache and the upstream servers.
type resolver struct {
	cfg      *conf.Config
	store    *localStore
	cache    *answerCache
	fwd      *forwarder
	defaults []conf.Upstream // plain server= lines and resolv-file servers
	loop     *loopDetector   // dns-loop-detect: nil unless set
	log      *zap.Logger
	debug    *zap.Logger // log-debug: nil unless set
	stats    *stats
	auth     *authData    // auth-zone: nil unless set
	dump     *pcap.Writer // dumpfile: nil unless set
	// localNets are the networks of the interface IPv4 addresses, for
	// localise-queries.
	localNets map[netip.Addr]netip.Prefix
	validator *dnssec.Validator // dnssec: nil unless set
}

// answer is the outcome of resolving one question.
type answer struct {
	rcode     int
	aa        bool
	answer    []dns.RR
	ns        []dns.RR
	extra     []dns.RR
	tc        bool         // upstream reply was truncated
	noRA      bool         // answered on an auth-server address: recursion not available
	source    answerSource // where the answer came from
	server    string       // the upstream server that answered, for sourceUpstream
	secure    bool         // dnssec: validated as secure
	validated bool         // dnssec: has a DNSSEC status (secure or insecure)
	ad        bool         // proxy-dnssec: the upstream's AD bit
	// keepsAD: nothing in the answer cleared dnsmasq's sec_data, so a
	// client that asks for AD (DO or AD, no CD) gets it: a CNAME question
	// answered by a cached NXDOMAIN without an SOA (rfc1035.c
	// answer_request clears it only for the SOA it adds).
	keepsAD bool
	// negMet: a cached NODATA was the last negative record answer_request
	// met, so its SOA or its lack of one is the answer's (soa_lookup), not
	// that of an NXDOMAIN met before it (withNXSOA).
	negMet bool
	ede    uint16 // extended DNS error for the client (0: none)
	bogus  bool   // dnssec-debug: failed validation, passed on
	// quiet: the reply is not written to the dumpfile. dnsmasq 2.90 does
	// not dump the replies it makes without forwarding in its forwarding
	// code: address=, local=, domain-needed and REFUSED for want of a
	// server (measured).
	quiet bool
	opts  []dns.EDNS0 // the upstream reply's EDNS0 options, relayed to EDNS clients (never cached)
	// relayDO: the reply's DO bit is do, the upstream's (dnsmasq relays
	// the upstream's OPT record; a fresh forwarded answer only).
	relayDO, do bool
	// took is how long the answer waited for upstream servers (the
	// dashboard's query log).
	took time.Duration
}

// ttl is the TTL of a local answer: the record's own or local-ttl. dnsmasq
// does not apply max-ttl to local answers (measured on 2.90).
func (r *resolver) ttl(t int) uint32 {
	if t >= 0 {
		return uint32(t)
	}
	return r.cfg.LocalTTL
}

// capTTL applies max-ttl to a TTL handed out.
func (r *resolver) capTTL(v uint32) uint32 {
	if r.cfg.HasMaxTTL && v > r.cfg.MaxTTL {
		return r.cfg.MaxTTL
	}
	return v
}

func addrRR(owner string, a netip.Addr, ttl uint32) dns.RR {
	return ipRR(owner, a, net.IP(a.AsSlice()), ttl)
}

// ipRR is addrRR with the address already as a net.IP (ip is a.AsSlice()),
// precomputed by the store: answers share it, nothing writes to it.
func ipRR(owner string, a netip.Addr, ip net.IP, ttl uint32) dns.RR {
	if a.Is4() {
		return &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: ip}
	}
	return &dns.AAAA{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl}, AAAA: ip}
}

// oneRR is []dns.RR{ipRR(owner, a, ip, ttl)} in one allocation.
func oneRR(owner string, a netip.Addr, ip net.IP, ttl uint32) []dns.RR {
	if a.Is4() {
		x := &struct {
			rr  dns.A
			out [1]dns.RR
		}{rr: dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: ip}}
		x.out[0] = &x.rr
		return x.out[:]
	}
	x := &struct {
		rr  dns.AAAA
		out [1]dns.RR
	}{rr: dns.AAAA{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl}, AAAA: ip}}
	x.out[0] = &x.rr
	return x.out[:]
}

var (
	ipv4Unspecified = net.IP(netip.IPv4Unspecified().AsSlice())
	ipv6Unspecified = net.IP(netip.IPv6Unspecified().AsSlice())
)

func typeOf(a netip.Addr) uint16 {
	if a.Is4() {
		return dns.TypeA
	}
	return dns.TypeAAAA
}

// localData returns the local records of nd for qtype, owned by owner.
// lnet is the network of localise-queries (invalid: no localisation).
func (r *resolver) localData(nd *node, owner string, qtype uint16, lnet netip.Prefix) []dns.RR {
	var out []dns.RR
	for i, h := range nd.addrs {
		if (qtype == dns.TypeANY || qtype == typeOf(h.Addr)) && localised(lnet, nd.addrs, h.Addr) {
			out = append(out, ipRR(owner, h.Addr, nd.ips[i], r.ttl(h.TTL)))
		}
	}
	for _, rr := range nd.rrs {
		if qtype == dns.TypeANY || rr.Header().Rrtype == qtype {
			c := dns.Copy(rr)
			c.Header().Name = owner
			c.Header().Ttl = r.ttl(-1)
			if mx, ok := c.(*dns.MX); ok && rr == nd.autoMX && r.cfg.SelfMX {
				mx.Mx = owner // the name as asked (rfc1035.c answer_request)
			}
			out = append(out, c)
		}
	}
	return out
}

// pending is a query that resolveLocal could not answer: it goes upstream.
type pending struct {
	req      *dns.Msg
	name     string // lower case, no trailing dot
	servers  []conf.Upstream
	tcp      bool
	validate bool // dnssec: validate the answer (not for server=/domain/ without a trust anchor)

	client net.Addr // for answerForward
	udp    bool
	mark   uint32 // conntrack: the client flow's mark, for the upstream sockets
}

// defaultServers are the plain servers, less those dns-loop-detect took out.
func (r *resolver) defaultServers() []conf.Upstream {
	if r.loop != nil {
		return r.loop.current()
	}
	return r.defaults
}

// Resolve answers req (one question); tcp says the client asked over TCP.
// The context bounds forwarding.
func (r *resolver) Resolve(ctx context.Context, req *dns.Msg, tcp bool) answer {
	a, p := r.resolveLocal(req, tcp, netip.Addr{})
	if p != nil {
		return r.forward(ctx, p)
	}
	return a
}

// resolveLocal answers req from the admin records, the local data, the
// domain table and the cache; it returns a pending query when the answer
// must be forwarded. local is the address the query arrived at (for
// localise-queries; invalid when unknown).
func (r *resolver) resolveLocal(req *dns.Msg, tcp bool, local netip.Addr) (answer, *pending) {
	q := req.Question[0]
	lname := lower(q.Name) // no allocation when already lower case
	name := strings.TrimSuffix(lname, ".")
	fqdn := lname // dns.Fqdn(name) without building it again
	if len(lname) != len(name)+1 || dns.IsFqdn(name) {
		fqdn = dns.Fqdn(name)
	}
	if r.loop != nil && r.loop.looped(name, q.Qtype, r.log) {
		return answer{source: sourceDrop}, nil
	}

	// Class CHAOS (other than bind and server, answered before) skips the
	// local data, synth-domain and the addresses of address= (measured on
	// 2.90): it is forwarded.
	if q.Qclass != dns.ClassCHAOS {
		if a, ok := r.localAnswer(req, name, fqdn, tcp, local); ok {
			return a, nil
		}
	}
	rt := r.route(req, name, tcp)
	if q.Qclass != dns.ClassCHAOS {
		if a, ok := r.cachedAnswer(req, name, fqdn, tcp, &rt); ok {
			return a, nil
		}
	}
	if a, ok := r.unforwarded(req, name, tcp, &rt); ok {
		return a, nil
	}
	return answer{}, &pending{req: req, name: name, servers: rt.servers, tcp: tcp, validate: rt.validate}
}

// localAnswer is the answer from what is configured for the name itself,
// before the domain table: records added through the admin API, local data
// (hosts, host-record, cname, the record options), synth-domain, MAILB,
// the filter-* options and bogus-priv.
func (r *resolver) localAnswer(req *dns.Msg, name, fqdn string, tcp bool, local netip.Addr) (answer, bool) {
	q := req.Question[0]
	qtype := q.Qtype
	// 0. Records added through the admin API.
	if recs := liveRecords.lookup(fqdn, q.Name, qtype); len(recs) > 0 {
		return answer{rcode: dns.RcodeSuccess, aa: true, answer: recs, source: sourceLocal}, true
	}

	// 1. Local data: hosts, host-record, cname and the record options
	// (not under a CNAME cached for the name: dnsmasq follows it first,
	// rfc1035.c answer_request).
	if a, ok := r.local(q.Name, name, qtype, r.localNet(local), req); ok && !r.cnameCached(name) {
		if qtype == dns.TypeCNAME && len(a.answer) > 0 {
			return a, true // the chain loop stops at the first CNAME: no soa_lookup
		}
		return r.withNXSOA(a, q.Name, name), true
	}

	// synth-domain: after the local data, before address= and server=
	// (measured on 2.90).
	if len(r.cfg.Synth) > 0 {
		if a, ok := r.synth(q.Name, name, qtype); ok {
			return r.withNXSOA(a, q.Name, name), true
		}
	}

	// dnsmasq answers MAILB itself with an authoritative NXDOMAIN (measured
	// on 2.90).
	if qtype == dns.TypeMAILB {
		return answer{rcode: dns.RcodeNameError, aa: true, source: sourceLocal}, true
	}

	// filter-A, filter-AAAA, filter-rr: NODATA from what is known
	// of the name, before address= and server= (answer_request
	// comes before forward_query).
	if a, ok := r.filteredAnswer(req, fqdn, qtype, tcp); ok {
		return a, true
	}
	// bogus-priv: reverse lookups of private ranges stay local.
	return r.bogusPriv(q, name, fqdn)
}

// queryRoute is where the domain table sends a query.
type queryRoute struct {
	servers  []conf.Upstream // where it is forwarded
	table    answer          // the table's own answer (address=, local=), if hasTable
	hasTable bool
	unusable bool   // the servers for the name were dropped as unusable
	validate bool   // DNSSEC for this query
	tname    string // the name the table was looked up by
}

// route looks the query up in the domain table: address=, local=,
// server=. Its own answers come after the cache, as dnsmasq's forward.c
// comes after answer_request: the cache may hold the target of a CNAME
// under an address= domain.
func (r *resolver) route(req *dns.Msg, name string, tcp bool) queryRoute {
	q := req.Question[0]
	chaos := q.Qclass == dns.ClassCHAOS
	rt := queryRoute{validate: r.validator != nil, tname: name}
	if tcp && q.Qclass == dns.ClassINET {
		rt.tname = r.cachedCNAMEEnd(name, req, rt.validate)
	}
	var buf [8]*ruleSet
	for _, rs := range r.store.matches(rt.tname, buf[:0]) {
		if !chaos { // address= answers only class IN (and ANY)
			if recs := rs.addressAnswer(q.Name, q.Qtype, r.ttl(-1)); recs != nil {
				rt.table, rt.hasTable = answer{rcode: dns.RcodeSuccess, aa: true, answer: recs, source: sourceLocal, quiet: true}, true
				return rt
			}
		}
		// Then, in dnsmasq's order for one domain (domain-match.c
		// filter_servers): server=/d/#, upstream servers, and last the
		// lines without an address, so that server=/d/ip wins over
		// address=/d/ and local=/d/ for the same domain.
		switch {
		case rs.standard:
			rt.servers, rt.unusable = r.defaultServers(), r.cfg.UnusableDefaults
			return rt
		case len(rs.servers) > 0:
			rt.servers = rs.servers
			rt.validate = rt.validate && r.dnssecDomain(rs.domain)
			return rt
		case rs.ignored:
			rt.unusable = true // dnsmasq answers REFUSED (measured)
			return rt
		case rs.nx || rs.local:
			// Never forwarded: NODATA when the same domain has addresses
			// of another type or the name exists locally, else NXDOMAIN
			// (domain-match.c is_local_answer).
			rcode := dns.RcodeNameError
			if len(rs.addrs) > 0 && !chaos || rs.null && !chaos || r.localDomain(rt.tname) {
				rcode = dns.RcodeSuccess
			}
			rt.table, rt.hasTable = answer{rcode: rcode, source: sourceLocal, quiet: true}, true
			return rt
		case rs.domain == "":
			// address=//ip alone for a dotless name, another type: its
			// group has no server, and the default ones are not for
			// dotless names; REFUSED ("config error", measured).
			rt.unusable = true
			return rt
		}
	}
	rt.servers, rt.unusable = r.defaultServers(), r.cfg.UnusableDefaults
	return rt
}

// cachedAnswer is the answer from the cache (for ANY only a cached
// NXDOMAIN, rfc1035.c answer_request), or through a cached CNAME chain.
func (r *resolver) cachedAnswer(req *dns.Msg, name, fqdn string, tcp bool, rt *queryRoute) (answer, bool) {
	q := req.Question[0]
	qtype := q.Qtype
	ctype := qtype
	if qtype == dns.TypeANY {
		ctype = 0 // the key of NXDOMAIN answers
	}
	stale := time.Duration(-1)
	if r.cfg.UseStale {
		stale = time.Duration(r.cfg.StaleMax) * time.Second
	}
	if k, ok, applies := r.rrLookup(fqdn, qtype, tcp); applies {
		if !ok {
			return answer{}, false
		}
		ctype = k.qtype
	}
	// A cached NXDOMAIN answers a CNAME query whatever DO says: dnsmasq
	// checks it before the DNSSEC conditions (rfc1035.c answer_request).
	if rcode, ans, ns, isStale, st, ok := r.cache.lookup(fqdn, ctype, !r.cfg.NoRoundRobin, stale); ok &&
		(r.cacheUsable(req, st, rt.validate) || qtype == dns.TypeCNAME && rcode == dns.RcodeNameError) {
		if isStale && len(rt.servers) > 0 {
			// use-stale-cache: answered at once, refreshed after.
			r.refresh(&pending{req: req.Copy(), name: name, servers: rt.servers, tcp: tcp, validate: rt.validate})
		}
		a := answer{rcode: rcode, answer: ans, ns: ns, source: sourceCache, secure: st == cacheSecure}
		if rcode == dns.RcodeNameError || !slices.ContainsFunc(ans, isType(qtype)) {
			a.ns = r.currentSOA(a.ns)
		}
		a.keepsAD = qtype == dns.TypeCNAME && rcode == dns.RcodeNameError && len(a.ns) == 0
		if negativeChain(name, qtype, rcode, ans) {
			// A negative answer through CNAMEs is the chain's end's:
			// dnsmasq follows the cached CNAMEs to the end's local data
			// or negative record as they are now.
			return r.cachedChain(req, rt.validate, tcp)
		}
		// A cached CNAME asked for as such is answered with aa: dnsmasq
		// never clears it for the CNAMEs of its cache.
		a.aa = qtype == dns.TypeCNAME && rcode == dns.RcodeSuccess && len(ans) > 0
		echoCase(a.answer, q.Name, false)
		if chainEnd(name, ans) == name {
			// The SOA of a chain's target keeps the target's spelling.
			echoCase(a.ns, q.Name, true)
		}
		r.capAll(a.answer)
		r.capAll(a.ns)
		// A cached NXDOMAIN stays one, even for a name the cache now
		// holds other data for: only an upstream NXDOMAIN is turned
		// into NODATA (forward.c process_reply), before it is cached.
		return a, true
	}
	if qtype != dns.TypeCNAME {
		return r.cachedChain(req, rt.validate, tcp)
	}
	return answer{}, false
}

// unforwarded is the answer of a query that is not forwarded after all:
// filterwin2k, the domain table's own answer, domain-needed, or no server.
func (r *resolver) unforwarded(req *dns.Msg, name string, tcp bool, rt *queryRoute) (answer, bool) {
	q := req.Question[0]
	qtype := q.Qtype
	if r.cfg.FilterWin2k && (qtype == dns.TypeSOA || qtype == dns.TypeSRV || qtype == dns.TypeANY && strings.Contains(name, "_")) {
		// filterwin2k: NODATA with aa, never forwarded (measured on 2.90).
		return answer{rcode: dns.RcodeSuccess, aa: true, source: sourceLocal}, true
	}
	if rt.hasTable {
		return rt.table, true
	}
	if r.cfg.DomainNeeded && q.Qclass == dns.ClassINET && isPlainName(rt.tname) && (qtype == dns.TypeA || qtype == dns.TypeAAAA || qtype == dns.TypeANY) {
		// domain-needed: plain names are never forwarded for A, AAAA and
		// ANY, whatever server= says: NODATA when the name exists
		// locally, else NXDOMAIN (forward.c).
		// With no server for the name, the answer says so as well (an
		// unusable one is not tried: no extended error).
		ede := noServerEDE(rt.servers, rt.unusable)
		if ede != dns.ExtendedErrorCodeNotReady {
			ede = 0
		}
		if r.localDomain(rt.tname) {
			return answer{rcode: dns.RcodeSuccess, source: sourceLocal, quiet: true, ede: ede}, true
		}
		return answer{rcode: dns.RcodeNameError, source: sourceLocal, quiet: true, ede: ede}, true
	}
	if len(rt.servers) == 0 {
		if tcp && rt.unusable {
			return answer{source: sourceClose}, true // the connection to the server failed
		}
		return answer{rcode: dns.RcodeRefused, source: sourceNone, quiet: true, ede: noServerEDE(rt.servers, rt.unusable)}, true
	}
	return answer{}, false
}

// noServerEDE is the extended DNS error of an answer made for want of a
// usable server (forward.c forward_query): 14 (Not Ready) when no server
// is configured for the name, 23 (Network Error) when its servers cannot
// be used (dnsmasq fails to send); 0 when there are servers.
func noServerEDE(servers []conf.Upstream, unusable bool) uint16 {
	switch {
	case len(servers) > 0:
		return 0
	case unusable:
		return dns.ExtendedErrorCodeNetworkError
	}
	return dns.ExtendedErrorCodeNotReady
}

// refreshing holds the queries being refreshed for use-stale-cache.
var refreshing sync.Map // cacheKey -> struct{}

// refresh forwards p in the background, which stores the new answer in the
// cache; one refresh per name and type at a time.
func (r *resolver) refresh(p *pending) {
	k := cacheKey{dns.Fqdn(p.name), p.req.Question[0].Qtype}
	if _, busy := refreshing.LoadOrStore(k, struct{}{}); busy {
		return
	}
	go func() {
		defer refreshing.Delete(k)
		ctx, cancel := context.WithTimeout(context.Background(), r.fwd.Timeout*time.Duration(max(1, len(p.servers)))+time.Second)
		defer cancel()
		r.forward(ctx, p)
	}()
}

// forward asks the upstream servers for a pending query; the context bounds
// the exchange.
func (r *resolver) forward(ctx context.Context, p *pending) answer {
	fq, cacheable := r.upstreamQuery(p)
	reply, u, a, ok := r.ask(r.exchangeContext(ctx, p), p, fq)
	if !ok {
		return a
	}
	a, ok = r.upstreamAnswer(ctx, p, reply, u)
	if !ok {
		return a
	}
	a, relay := r.processReply(p, a, cacheable)
	if o := reply.IsEdns0(); o != nil && relay {
		r.relayEDNS(&a, p.req, o)
	}
	return a
}

// upstreamQuery is the query forwarded for p: a new ID, the client's
// flags and question, its EDNS0 as forwardEDNS makes it, and DO with
// edns-packet-max when the answer is validated. cacheable is false when
// the query carries the client's address or MAC.
func (r *resolver) upstreamQuery(p *pending) (fq *dns.Msg, cacheable bool) {
	req := p.req
	fq = new(dns.Msg)
	fq.Id = dns.Id()
	fq.RecursionDesired = req.RecursionDesired
	fq.CheckingDisabled = req.CheckingDisabled || p.validate && r.cfg.DNSSEC.Debug
	fq.AuthenticatedData = req.AuthenticatedData // passed on, as dnsmasq does
	fq.Question = []dns.Question{req.Question[0]}
	cacheable = r.forwardEDNS(fq, req, p.client)
	if p.validate {
		// dnssec: always with DO, for the RRSIGs, advertising
		// edns-packet-max.
		if o := fq.IsEdns0(); o != nil {
			o.SetUDPSize(uint16(r.cfg.EDNSPacketMax))
			o.SetDo()
		} else {
			fq.SetEdns0(uint16(r.cfg.EDNSPacketMax), true)
		}
	}
	return fq, cacheable
}

// exchangeContext is ctx with what the exchange needs to know of the
// client: the subnet a reply must carry (add-subnet: dnsmasq drops a
// reply with another, measured) and the connection mark of its flow.
func (r *resolver) exchangeContext(ctx context.Context, p *pending) context.Context {
	if r.cfg.EDNS.AddSubnet {
		want, _ := subnetOption(&r.cfg.EDNS, clientAddr(p.client))
		ctx = exchange.WithAccept(ctx, func(m *dns.Msg) bool { return subnetMatches(m, want) })
	}
	if p.mark != 0 {
		ctx = exchange.WithMark(ctx, p.mark)
	}
	return ctx
}

// ask sends fq to p's servers within dns-forward-max. When it does not
// come back with a reply, a is the answer to give (dropped, or SERVFAIL)
// and ok is false.
func (r *resolver) ask(ctx context.Context, p *pending, fq *dns.Msg) (reply *dns.Msg, u conf.Upstream, a answer, ok bool) {
	q := p.req.Question[0]
	if !r.fwd.acquire() {
		// dns-forward-max reached: dropped, like dnsmasq does.
		r.log.Warn("maximum number of concurrent DNS queries reached", zap.Int("max", r.cfg.ForwardMax))
		return nil, conf.Upstream{}, answer{source: sourceDrop}, false
	}
	start := time.Now()
	reply, u, err := r.fwd.exchange(ctx, fq, p.servers, p.tcp)
	r.fwd.release()
	if err != nil {
		if r.stats != nil {
			r.stats.upstreamFailures.Add(1)
		}
		r.log.Debug("forwarding failed", zap.String("name", q.Name), zap.Error(err))
		return nil, conf.Upstream{}, answer{rcode: dns.RcodeServerFailure, source: sourceNone}, false
	}
	if r.debug != nil {
		r.debug.Debug("forwarded", zap.String("name", q.Name), zap.String("type", dns.TypeToString[q.Qtype]),
			zap.String("upstream", u.Addr), zap.Bool("tcp", p.tcp), zap.String("rcode", dns.RcodeToString[reply.Rcode]),
			zap.Int("answers", len(reply.Answer)), zap.Bool("truncated", reply.Truncated), zap.Duration("duration", time.Since(start)))
	}
	return reply, u, answer{}, true
}

// upstreamAnswer is the answer a reply of u gives: as it is, truncated
// (dnsmasq passes TC on with empty sections; the client retries over TCP;
// proxy-dnssec copies its AD bit too), or validated. ok is false when it
// is final: truncated, or bogus (SERVFAIL with EDE 6, never cached,
// measured on 2.90).
func (r *resolver) upstreamAnswer(ctx context.Context, p *pending, reply *dns.Msg, u conf.Upstream) (a answer, ok bool) {
	req := p.req
	if reply.Truncated {
		return answer{rcode: reply.Rcode, aa: reply.Authoritative, tc: true, source: sourceUpstream, server: u.Addr, ad: reply.AuthenticatedData}, false
	}
	a = answer{rcode: reply.Rcode, aa: reply.Authoritative, answer: reply.Answer, ns: reply.Ns, extra: stripOPT(reply.Extra), source: sourceUpstream, server: u.Addr,
		ad: reply.AuthenticatedData}
	if r.validator != nil && !req.CheckingDisabled {
		// Answers of servers that are not validated count as insecure.
		a.validated = true
	}
	if p.validate && !req.CheckingDisabled {
		st, reason := r.validator.Validate(ctx, req.Question[0], reply, p.servers)
		if st == dnssec.Bogus && !r.cfg.DNSSEC.Debug {
			return answer{rcode: dns.RcodeServerFailure, ede: dns.ExtendedErrorCodeDNSBogus, source: sourceUpstream, server: u.Addr}, false
		}
		a.secure = st == dnssec.Secure
		// dnssec-debug passes bogus answers on, with the reason as an
		// extended DNS error, but does not cache them (measured).
		if a.bogus = st == dnssec.Bogus; a.bogus {
			a.ede = reason
		}
	}
	return a, true
}

// processReply does to an upstream answer what dnsmasq's process_reply
// and extract_addresses do: NXDOMAIN for a local name turned NODATA,
// doctor-net, bogus-nxdomain, the rebind check, ipset/nftset, filter-rr,
// the cache, and max-ttl on what is handed out. relay says whether the
// answer is still the upstream's, to go out with its OPT record (not when
// bogus-nxdomain or the rebind check replaced it).
func (r *resolver) processReply(p *pending, a answer, cacheable bool) (_ answer, relay bool) {
	req, name := p.req, p.name
	q := req.Question[0]
	qtype := q.Qtype
	// An NXDOMAIN for a name that exists locally (for another type) is
	// NODATA, authoritative (forward.c process_reply), and is cached as
	// such; before bogus-nxdomain, which may turn the answer into
	// NXDOMAIN after all.
	a = r.negToNodata(a, name)
	if r.doctor(a.answer) {
		a.aa = false // changed data is no longer the server's (rfc1035.c do_doctor)
	}
	if bad := r.bogusNX(a.answer); a.rcode == dns.RcodeSuccess && bad != nil {
		if cacheable {
			r.cacheBogusNX(bad)
		}
		return answer{rcode: dns.RcodeNameError, source: sourceUpstream, server: a.server, ede: dns.ExtendedErrorCodeBlocked}, false
	}
	if r.cfg.StopRebind && a.rcode == dns.RcodeSuccess && (qtype == dns.TypeA || qtype == dns.TypeAAAA) && !r.rebindOK(name) && r.rebinding(a.answer, qtype) {
		// The sections are emptied; rcode and aa stay the server's, and
		// an EDNS client learns why (rfc1035.c extract_addresses, forward.c).
		r.log.Warn("possible DNS-rebind attack detected", zap.String("name", q.Name))
		if cacheable && !p.tcp { // (a TCP child's cache is its own)
			r.cache.dropThrough(cnameOwners(a.answer))
		}
		return answer{rcode: dns.RcodeSuccess, aa: a.aa, source: sourceUpstream, server: a.server, ede: dns.ExtendedErrorCodeBlocked}, false
	}
	if len(r.cfg.SetRules) > 0 && a.rcode == dns.RcodeSuccess {
		r.addToSets(name, q.Name, a.answer)
	}
	// The cache keeps what filter-rr removes, as dnsmasq's does: it is
	// filtered again on the way out (filteredAnswer).
	unfiltered := a
	a = r.filterReply(qtype, a)
	if cacheable && q.Qclass != dns.ClassCHAOS && !(r.validator != nil && req.CheckingDisabled) && !a.bogus &&
		(qtype != dns.TypeANY || a.rcode == dns.RcodeNameError) {
		// Unvalidated (CD with dnssec) and bogus answers are not cached.
		// dnsmasq neither caches CHAOS answers nor answers them from the
		// cache (measured), nor caches replies to queries that carry the
		// client's address or MAC (add-subnet, umbrella, add-mac). Of the
		// answers to ANY, only NXDOMAIN is cached: it holds for every
		// type (rfc1035.c extract_addresses).
		cached := unfiltered
		cached.answer = spelledAsAsked(unfiltered.answer, q.Name)
		r.cacheReply(name, qtype, cached, 0, p.tcp)
	}
	r.capWalked(q, a.rcode, a.answer, unfiltered.answer)
	return a, true
}

// capWalked caps with max-ttl the records of a forwarded answer with rcode
// (out, as it goes to the client; all, as upstream sent it) that dnsmasq hands out
// capped, the cache keeping the real TTLs: those of the answer section of
// a class IN reply only, not the SOA of a negative answer (rfc1035.c
// extract_addresses, as it walks them: not for a PTR question answered
// NXDOMAIN, whose records it does not walk, nor past a CNAME loop's
// furthest pass); from the cache, every record is capped (crec_ttl).
func (r *resolver) capWalked(q dns.Question, rcode int, out, all []dns.RR) {
	if q.Qclass != dns.ClassINET || q.Qtype == dns.TypePTR && rcode == dns.RcodeNameError {
		return
	}
	n := maxTTLWalked(q.Name, q.Qtype, all)
	if n == len(all) {
		r.capAll(out) // the usual case: every record walked
		return
	}
	for _, rr := range out {
		if slices.Contains(all[:n], rr) {
			r.capAll([]dns.RR{rr})
		}
	}
}

// relayEDNS hands on the upstream's OPT record o with a fresh answer (an
// echoed subnet, a cookie...), as dnsmasq does; not with a cached one.
func (r *resolver) relayEDNS(a *answer, req *dns.Msg, o *dns.OPT) {
	a.opts = o.Option
	clientDO := req.IsEdns0() != nil && req.IsEdns0().Do()
	a.relayDO, a.do = true, o.Do() && (clientDO || r.validator == nil)
	// Adding an extended DNS error to it sets the client's DO bit there
	// too (edns0.c add_pseudoheader).
	a.do = a.do || a.ede != 0 && clientDO
}

// forwardEDNS gives fq, the query forwarded for req, its OPT record: the
// client's EDNS0 options, as dnsmasq passes them on, changed by add-subnet,
// add-mac, add-cpe-id, umbrella, strip-subnet and strip-mac. Its UDP size
// is the client's, at most edns-packet-max; an OPT record added to a query
// that had none says 512 (all measured). It reports whether the reply may
// be cached.
func (r *resolver) forwardEDNS(fq, req *dns.Msg, client net.Addr) bool {
	opt := req.IsEdns0()
	var in []dns.EDNS0
	if opt != nil {
		in = opt.Option
	}
	out, cacheable := forwardOptions(&r.cfg.EDNS, in, client)
	if opt == nil && len(out) == 0 && !r.cfg.EDNS.StripSubnet && !r.cfg.EDNS.StripMAC {
		// (strip-subnet and strip-mac give every query an OPT record.)
		return cacheable
	}
	size, do := uint16(dns.MinMsgSize), false
	if opt != nil {
		size, do = min(max(opt.UDPSize(), dns.MinMsgSize), uint16(r.cfg.EDNSPacketMax)), opt.Do()
	}
	fq.SetEdns0(size, do)
	fq.IsEdns0().Option = out
	return cacheable
}

// doctor applies the alias= rules to the A records of a forwarded answer;
// it reports whether it changed one.
func (r *resolver) doctor(rrs []dns.RR) bool {
	if len(r.cfg.Aliases) == 0 {
		return false
	}
	changed := false
	for _, rr := range rrs {
		a, ok := rr.(*dns.A)
		if !ok || a.A.To4() == nil {
			continue
		}
		ip := a.A.To4()
		v := uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
		for _, al := range r.cfg.Aliases {
			if nv, ok := al.Apply(v); ok {
				a.A = net.IPv4(byte(nv>>24), byte(nv>>16), byte(nv>>8), byte(nv)).To4()
				changed = true
				break
			}
		}
	}
	return changed
}

// negToNodata turns NXDOMAIN into NODATA (authoritative) for a name that
// exists locally, as dnsmasq does.
func (r *resolver) negToNodata(a answer, name string) answer {
	if a.rcode == dns.RcodeNameError && r.exists(name) {
		a.rcode = dns.RcodeSuccess
		a.aa = true
		a.secure = false // no longer the validated answer: no AD (measured)
	}
	return a
}

// exists reports whether name (lower case, no trailing dot) exists
// locally: see localDomain, or covered by an address= with addresses at
// any level (forward.c: check_for_local_domain or lookup_domain with
// F_CONFIG).
func (r *resolver) exists(name string) bool {
	return r.localDomain(name) || r.store.hasConfigAddress(name)
}

// localDomain is dnsmasq's check_for_local_domain (rfc1035.c): name (lower
// case, no trailing dot) is a local name or one above it (localStore.known), or
// the cache holds an answer for it other than NXDOMAIN, from upstream too
// (a NODATA counts).
func (r *resolver) localDomain(name string) bool {
	return r.store.isKnown(name) || r.cache.hasName(dns.Fqdn(name), r.cfg.CacheRR)
}

// isPlainName reports whether name is a single label, the names
// domain-needed keeps local (the root, "", is not one).
func isPlainName(name string) bool {
	return name != "" && !strings.Contains(name, ".")
}

func (r *resolver) capAll(rrs []dns.RR) {
	for _, rr := range rrs {
		rr.Header().Ttl = r.capTTL(rr.Header().Ttl)
	}
}

// local answers from hosts, host-record, cname and record options.
// req is the query, for the cached data a CNAME chain may end in.
func (r *resolver) local(owner, name string, qtype uint16, lnet netip.Prefix, req *dns.Msg) (answer, bool) {
	nd := r.store.names[name]
	// PTR answers of interface names and hosts entries, for PTR and ANY
	// (rfc1035.c answer_request).
	ptrQuery := qtype == dns.TypePTR || qtype == dns.TypeANY
	if ptrQuery && (nd == nil || len(nd.rrs) == 0) {
		if target, ok := r.store.ifacePTR[name]; ok {
			return answer{rcode: dns.RcodeSuccess, aa: true, source: sourceLocal,
				answer: []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: r.ttl(-1)}, Ptr: dns.Fqdn(target)}}}, true
		}
	}
	if ptrQuery {
		if hs := r.store.ptr[name]; len(hs) > 0 && (nd == nil || len(nd.rrs) == 0) {
			var out []dns.RR
			seen := map[string]bool{}
			for _, h := range hs {
				if seen[h.Name] {
					continue
				}
				seen[h.Name] = true
				out = append(out, &dns.PTR{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: r.ttl(h.TTL)}, Ptr: dns.Fqdn(h.Name)})
			}
			return answer{rcode: dns.RcodeSuccess, aa: true, answer: out, source: sourceLocal}, true
		}
	}
	if nd == nil {
		return answer{}, false
	}
	if nd.cname != nil && qtype != dns.TypeCNAME {
		return r.chase(owner, nd, qtype, lnet, req)
	}
	if nd.cname != nil {
		return answer{rcode: dns.RcodeSuccess, aa: true, answer: []dns.RR{r.cnameRR(owner, nd.cname)}, source: sourceLocal}, true
	}
	if recs := r.localData(nd, owner, qtype, lnet); len(recs) > 0 {
		return answer{rcode: dns.RcodeSuccess, aa: true, answer: recs, extra: r.additional(nd, recs), source: sourceLocal}, true
	}
	return answer{}, false
}

func (r *resolver) cnameRR(owner string, c *conf.CNAMERec) dns.RR {
	return &dns.CNAME{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: r.ttl(c.TTL)}, Target: dns.Fqdn(c.Target)}
}

// chase follows local CNAMEs: each step is answered, and the final target's
// local data (or cached answer) of qtype is appended. Cached data the
// query may not use (DO without validation) is left out, and a cached
// CNAME it may not use gives up: the query is forwarded (rfc1035.c
// answer_request).
func (r *resolver) chase(owner string, nd *node, qtype uint16, lnet netip.Prefix, req *dns.Msg) (answer, bool) {
	a := answer{rcode: dns.RcodeSuccess, aa: true, source: sourceLocal}
	for i := 0; i < 10 && nd != nil && nd.cname != nil; i++ {
		a.answer = append(a.answer, r.cnameRR(owner, nd.cname))
		owner = dns.Fqdn(nd.cname.Target)
		nd = r.store.names[nd.cname.Target]
	}
	validate := r.validator != nil
	// The target's CNAMEs cached from upstream answers are followed too,
	// before any local data (rfc1035.c answer_request follows every CNAME,
	// a cname line's or a cached one, and only then looks at the name it
	// reached: a txt-record beside a cached CNAME does not answer); they
	// keep aa.
	cachedHops := 0
	for ; cachedHops < maxChain && qtype != dns.TypeCNAME; cachedHops++ {
		rcode, ans, _, _, st, ok := r.cache.lookup(owner, dns.TypeCNAME, false, -1)
		if !ok || rcode != dns.RcodeSuccess || len(ans) == 0 {
			break
		}
		if !r.cacheUsable(req, st, validate) {
			return answer{}, false
		}
		c, isC := ans[0].(*dns.CNAME)
		if !isC {
			break
		}
		r.capAll(ans[:1])
		if cachedHops > 0 {
			// The cached CNAME before points at this record: its name.
			spellTarget(a.answer, c.Hdr.Name)
		}
		c.Hdr.Name = owner // the name as the answer wrote it last
		a.answer = append(a.answer, c)
		owner = c.Target
		nd = r.store.names[canon(owner)]
	}
	// The local data of the chain's end answers it, as it would the end
	// itself (answer_request goes on with that name).
	if r.appendLocalData(&a, nd, owner, qtype, lnet) {
		return a, true
	}
	// Only addresses: the other types' cached data is looked up only when
	// nothing answered yet, and the local CNAME did (answer_request's
	// "if (!ans)").
	if qtype == dns.TypeA || qtype == dns.TypeAAAA {
		r.appendCachedAddrs(&a, owner, qtype, req, validate, cachedHops > 0)
	}
	return a, true
}

// appendLocalData appends to a the local data of type qtype of owner
// (whose node nd may be nil) and its additional section, and reports
// whether there was any; a name with a cname line has none of its own.
func (r *resolver) appendLocalData(a *answer, nd *node, owner string, qtype uint16, lnet netip.Prefix) bool {
	if nd == nil || nd.cname != nil {
		return false
	}
	recs := r.localData(nd, owner, qtype, lnet)
	if len(recs) == 0 {
		return false
	}
	a.answer = append(a.answer, recs...)
	a.extra = r.additional(nd, recs)
	return true
}

// appendCachedAddrs appends to a the addresses (or NODATA) of type qtype
// the cache holds for owner, the end of a chain that began with a cname
// line; they clear aa.
func (r *resolver) appendCachedAddrs(a *answer, owner string, qtype uint16, req *dns.Msg, validate, cachedHop bool) {
	if rcode, ans, ns, _, st, ok := r.cache.lookup(owner, qtype, !r.cfg.NoRoundRobin, -1); ok && rcode == dns.RcodeSuccess && r.cacheUsable(req, st, validate) {
		if r.filters(qtype) && slices.ContainsFunc(ans, isType(qtype)) {
			// Cached addresses of a filtered type: NODATA, the chain
			// kept (answer_request: "we have a cached answer but
			// we're filtering it").
			a.aa, a.ede = false, dns.ExtendedErrorCodeFiltered
			return
		}
		r.capAll(ans)
		if len(ans) > 0 {
			if cachedHop {
				// A cached CNAME points at the record: its name (a
				// cname line names its target itself).
				spellTarget(a.answer, ans[0].Header().Name)
			}
			// Written as a pointer to the last CNAME's target.
			target := a.answer[len(a.answer)-1].(*dns.CNAME).Target
			for _, rr := range ans {
				rr.Header().Name = target
			}
		}
		a.answer = append(a.answer, ans...)
		a.aa = false
		if len(ans) == 0 {
			// A cached NODATA brings its zone's SOA as the cache holds
			// it now (soa_lookup), or none.
			a.ns, a.negMet = r.currentSOA(ns), true
			r.capAll(a.ns)
		}
	}
}

// chainEnd is the last name of the CNAME chain from name (lower case, no
// trailing dot) in rrs, lower case without the trailing dot; name when
// there is none.
func chainEnd(name string, rrs []dns.RR) string {
	for i := 0; i < maxChain; i++ {
		next := ""
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(strings.TrimSuffix(c.Hdr.Name, "."), name) {
				next = canon(c.Target)
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	return name
}

// negativeTTL is how long a negative answer for name (lower case, no
// trailing dot) is cached: the smaller of the TTL and the minimum of the
// first SOA in the authority section whose owner ends the name, else
// neg-ttl (rfc1035.c find_soa; an SOA of another zone does not count).
func negativeTTL(name string, ns []dns.RR, negTTL uint32) (uint32, dns.RR) {
	fqdn := dns.Fqdn(name)
	for _, rr := range ns {
		soa, ok := rr.(*dns.SOA)
		if !ok {
			continue
		}
		if strings.HasSuffix(fqdn, strings.ToLower(soa.Hdr.Name)) {
			return min(soa.Hdr.Ttl, soa.Minttl), soa
		}
	}
	return negTTL, nil
}

var cacheable = map[uint16]bool{dns.TypeA: true, dns.TypeAAAA: true, dns.TypeCNAME: true, dns.TypeSRV: true, dns.TypePTR: true}

func minTTL(rrs []dns.RR) uint32 {
	var m uint32
	for i, rr := range rrs {
		if t := rr.Header().Ttl; i == 0 || t < m {
			m = t
		}
	}
	return m
}

// echoCase gives owner names that are the query name (or, with suffixes, a
// suffix of it) the query's spelling, as dnsmasq's answers from its cache
// have: their owners are pointers into the question. The records of the
// targets of a CNAME chain keep the spelling of the CNAME's target, so in
// the answer section only the query name itself is echoed.
func echoCase(rrs []dns.RR, qname string, suffixes bool) {
	for _, rr := range rrs {
		h := rr.Header()
		if len(h.Name) <= len(qname) && (suffixes || len(h.Name) == len(qname)) && strings.EqualFold(h.Name, qname[len(qname)-len(h.Name):]) {
			if k := len(qname) - len(h.Name); k == 0 || qname[k-1] == '.' {
				h.Name = qname[k:]
			}
		}
	}
}

func stripOPT(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// bogusNX returns the first record of rrs with a bogus-nxdomain address,
// or nil.
func (r *resolver) bogusNX(rrs []dns.RR) dns.RR {
	for _, rr := range rrs {
		if a, ok := exchange.RRAddr(rr); ok {
			for _, p := range r.cfg.BogusNX {
				if p.Contains(a) {
					return rr
				}
			}
		}
	}
	return nil
}

func mustPrefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// privateNets are the ranges whose reverse lookups bogus-priv keeps local:
// dnsmasq 2.90's private_net and private_net6 with localhost banned
// (rfc1035.c); IPv4-mapped IPv6 addresses count as their IPv4 address.
var privateNets = mustPrefixes("0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
	"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "255.255.255.255/32",
	"::/127", "fd00::/8", "fe80::/10", "fec0::/10", "2001:db8::/32")

// privateReverse reports whether a reverse name (lower case, no trailing
// dot) names a private address; a name with fewer labels names the
// address with the missing ones zero (rfc1035.c in_arpa_name_2_addr).
func privateReverse(name string) bool {
	if p, ok := reversePrefix(name); ok {
		a := p.Addr().Unmap()
		for _, n := range privateNets {
			if n.Contains(a) {
				return true
			}
		}
	}
	return false
}

// reversePrefix turns an in-addr.arpa or ip6.arpa name into the prefix it
// names.
func reversePrefix(name string) (netip.Prefix, bool) {
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		labels := strings.Split(rest, ".")
		if len(labels) > 4 {
			return netip.Prefix{}, false
		}
		var b [4]byte
		for i, l := range labels {
			var v int
			for _, ch := range l {
				if ch < '0' || ch > '9' {
					return netip.Prefix{}, false
				}
				v = v*10 + int(ch-'0')
				if v > 255 {
					return netip.Prefix{}, false
				}
			}
			if l == "" {
				return netip.Prefix{}, false
			}
			b[len(labels)-1-i] = byte(v)
		}
		return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(labels)), true
	}
	if rest, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		labels := strings.Split(rest, ".")
		if len(labels) > 32 {
			return netip.Prefix{}, false
		}
		var b [16]byte
		for i, l := range labels {
			if len(l) != 1 {
				return netip.Prefix{}, false
			}
			var v byte
			switch c := l[0]; {
			case c >= '0' && c <= '9':
				v = c - '0'
			case c >= 'a' && c <= 'f':
				v = c - 'a' + 10
			default:
				return netip.Prefix{}, false
			}
			pos := len(labels) - 1 - i
			if pos%2 == 0 {
				b[pos/2] |= v << 4
			} else {
				b[pos/2] |= v
			}
		}
		return netip.PrefixFrom(netip.AddrFrom16(b), 4*len(labels)), true
	}
	return netip.Prefix{}, false
}
