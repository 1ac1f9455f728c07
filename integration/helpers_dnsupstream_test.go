package integration

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeUpstream is a loopback DNS server with fixed answers, the upstream
// that real dnsmasq and Frontdesk forward to in the differential tests.
// Answers depend only on the question, so both see the same data:
//
//	nx.*        NXDOMAIN with an SOA (TTL 300, minimum 60)
//	nodata.*    NOERROR, no answer, SOA
//	nosoa.*     NXDOMAIN without an SOA (neg-ttl)
//	servfail.*  SERVFAIL
//	priv.*      A 192.168.1.1          (stop-dns-rebind)
//	lo.*        A 127.0.0.1            (rebind-localhost-ok)
//	bogus.*     A 10.9.9.9             (bogus-nxdomain)
//	multi.*     three A records        (round robin)
//	short.*     A with TTL 2           (cache expiry)
//	chain.*     CNAME target.chain.example. + A
//	big.*       TXT larger than 512 bytes (truncation)
//	drop1.*     no reply to the first query for the name, then as any other
//	drop3.*     no reply to the first three queries for the name, then the same
//	echo.*      like any other, and the reply's OPT record has the query's
//	            options (a client subnet with its scope set), as servers echo them
//	else        A 10.0.0.<id>, AAAA fd00::<id>, MX, TXT "upstream <id>",
//	            PTR up<id>.example.; other types NODATA with SOA
//
// With forwardTo set, it is a forwarder instead: every query is relayed
// there and the reply back (a forwarding loop when that is its client).
type fakeUpstream struct {
	id      int
	Addr    string // 127.0.0.1:port
	queries atomic.Int64
	servers []*dns.Server
	mu      sync.Mutex
	log     []string       // "name TYPE" of each question received
	ports   []int          // source port of each query
	ids     []uint16       // ID of each query
	edns    []string       // the OPT record of each query (see ednsString)
	froms   []string       // source address (ip:port, "tcp ..." over TCP) of each query
	seen    map[string]int // queries received per name
	fwdTo   string         // see forwardTo
	zone    *zoneData      // answers from this zone instead (startZoneUpstream)
}

// forwardTo makes the upstream relay every query to addr.
func (u *fakeUpstream) forwardTo(addr string) {
	u.mu.Lock()
	u.fwdTo = addr
	u.mu.Unlock()
}

func startFakeUpstream(t *testing.T, id int) *fakeUpstream {
	t.Helper()
	u := &fakeUpstream{id: id}
	u.Addr, u.servers = serveDNSLoopback(t, dns.HandlerFunc(u.serve))
	t.Cleanup(u.Stop)
	return u
}

// serveDNSLoopback serves h over UDP and TCP on one free 127.0.0.1 port and
// returns the address and the two running servers (the caller shuts them
// down).
func serveDNSLoopback(t *testing.T, h dns.Handler) (string, []*dns.Server) {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	var addr string
	var err error
	for i := 0; i < 10; i++ {
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			addr = "127.0.0.1:" + strconv.Itoa(port)
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	var servers []*dns.Server
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		servers = append(servers, s)
		go func() { _ = s.ActivateAndServe() }()
		<-started
	}
	return addr, servers
}

// Stop ends the upstream's servers.
func (u *fakeUpstream) Stop() {
	for _, s := range u.servers {
		_ = s.Shutdown()
	}
	u.servers = nil
}

// Dnsmasq is how the upstream is written in a dnsmasq server= line.
func (u *fakeUpstream) Dnsmasq() string { return dnsmasqAddr(u.Addr) }

// newReply starts an upstream's recursive reply to r; a query without
// exactly one question is answered FORMERR at once, and newReply is nil.
func newReply(w dns.ResponseWriter, r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return nil
	}
	return m
}

func mustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

func (u *fakeUpstream) serve(w dns.ResponseWriter, r *dns.Msg) {
	u.queries.Add(1)
	if len(r.Question) == 1 {
		u.mu.Lock()
		u.log = append(u.log, r.Question[0].Name+" "+dns.TypeToString[r.Question[0].Qtype])
		if a, ok := w.RemoteAddr().(*net.UDPAddr); ok {
			u.ports = append(u.ports, a.Port)
		}
		u.ids = append(u.ids, r.Id)
		u.edns = append(u.edns, ednsString(r))
		from := w.RemoteAddr().String()
		if _, udp := w.RemoteAddr().(*net.UDPAddr); !udp {
			from = "tcp " + from
		}
		u.froms = append(u.froms, from)
		name := strings.ToLower(r.Question[0].Name)
		if u.seen == nil {
			u.seen = map[string]int{}
		}
		u.seen[name]++
		n := u.seen[name]
		fwd := u.fwdTo
		u.mu.Unlock()
		if fwd != "" {
			if reply, _, err := (&dns.Client{Timeout: time.Second}).Exchange(r, fwd); err == nil {
				_ = w.WriteMsg(reply)
			}
			return
		}
		if n == 1 && strings.HasPrefix(name, "drop1.") || n <= 3 && strings.HasPrefix(name, "drop3.") {
			return // no reply: the sender has to retry
		}
	}
	m := newReply(w, r)
	if m == nil {
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	if u.zone != nil {
		u.zone.answer(m, q)
		u.reply(w, r, m, name)
		return
	}
	soa := mustRR("test. 300 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 60")
	add := func(s string) { m.Answer = append(m.Answer, mustRR(q.Name+" "+s)) }
	switch {
	case strings.HasPrefix(name, "nx."):
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, soa)
	case strings.HasPrefix(name, "nosoa."):
		m.Rcode = dns.RcodeNameError
	case strings.HasPrefix(name, "nodata."):
		m.Ns = append(m.Ns, soa)
	case strings.HasPrefix(name, "servfail."):
		m.Rcode = dns.RcodeServerFailure
	case strings.HasPrefix(name, "priv.") && q.Qtype == dns.TypeA:
		add("300 IN A 192.168.1.1")
	case strings.HasPrefix(name, "lo.") && q.Qtype == dns.TypeA:
		add("300 IN A 127.0.0.1")
	case strings.HasPrefix(name, "multi.") && q.Qtype == dns.TypeA:
		add("300 IN A 10.2.0.1")
		add("300 IN A 10.2.0.2")
		add("300 IN A 10.2.0.3")
	case strings.HasPrefix(name, "bogus.") && q.Qtype == dns.TypeA:
		add("300 IN A 10.9.9.9")
	case strings.HasPrefix(name, "short.") && q.Qtype == dns.TypeA:
		add("2 IN A 10.0.0.9")
	case strings.HasPrefix(name, "chain."):
		add("300 IN CNAME target.chain.example.")
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, mustRR("target.chain.example. 300 IN A 10.1.1.1"))
		}
	case strings.HasPrefix(name, "big.") && q.Qtype == dns.TypeTXT:
		for i := 0; i < 12; i++ {
			add(fmt.Sprintf(`300 IN TXT "%02d %s"`, i, strings.Repeat("x", 60)))
		}
	default:
		switch q.Qtype {
		case dns.TypeA:
			add(fmt.Sprintf("300 IN A 10.0.0.%d", u.id))
		case dns.TypeAAAA:
			add(fmt.Sprintf("300 IN AAAA fd00::%d", u.id))
		case dns.TypeMX:
			add("300 IN MX 10 mail.example.")
		case dns.TypeTXT:
			add(fmt.Sprintf(`300 IN TXT "upstream %d"`, u.id))
		case dns.TypePTR:
			add(fmt.Sprintf("300 IN PTR up%d.example.", u.id))
		default:
			m.Ns = append(m.Ns, soa)
		}
	}
	u.reply(w, r, m, name)
}

// reply sends m, the reply to r (whose question is name, lower case): with
// an OPT record when r has one, truncated like a real server's (to 512
// bytes without EDNS0, else to the requester's buffer size, over UDP only).
func (u *fakeUpstream) reply(w dns.ResponseWriter, r, m *dns.Msg, name string) {
	size := dns.MinMsgSize
	if o := r.IsEdns0(); o != nil {
		m.SetEdns0(4096, false)
		size = int(o.UDPSize())
		if strings.HasPrefix(name, "echo.") {
			for _, e := range o.Option {
				if s, ok := e.(*dns.EDNS0_SUBNET); ok {
					c := *s
					c.SourceScope = s.SourceNetmask
					e = &c
				}
				m.IsEdns0().Option = append(m.IsEdns0().Option, e)
			}
		}
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

// ednsString describes the OPT record of a query: "no-opt", or its UDP
// size, DO bit and options ("code:hex"), sorted so that the order of the
// options does not count.
func ednsString(r *dns.Msg) string {
	o := r.IsEdns0()
	if o == nil {
		return "no-opt"
	}
	return fmt.Sprintf("udp=%d do=%v opts=%v", o.UDPSize(), o.Do(), optionList(o))
}

// optionList is the EDNS0 options of an OPT record as "code:hex", sorted.
func optionList(o *dns.OPT) []string {
	var opts []string
	for _, e := range o.Option {
		m := new(dns.Msg)
		m.SetEdns0(512, false)
		m.IsEdns0().Option = []dns.EDNS0{e}
		b, err := m.Pack()
		if err != nil {
			opts = append(opts, fmt.Sprintf("%d:unpackable", e.Option()))
			continue
		}
		// The option is the tail of the message: code, length, data.
		opts = append(opts, fmt.Sprintf("%d:%x", e.Option(), b[12+11+4:]))
	}
	sort.Strings(opts)
	return opts
}

// ednsOptions is ",opts=[...]" for an OPT record with options, else "".
func ednsOptions(o *dns.OPT) string {
	if len(o.Option) == 0 {
		return ""
	}
	return fmt.Sprintf(",opts=%v", optionList(o))
}

// EDNS returns "question | OPT record" of each query received so far.
func (u *fakeUpstream) EDNS() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, len(u.edns))
	for i := range u.edns {
		out[i] = u.log[i] + " | " + u.edns[i]
	}
	return out
}

// Froms returns the source address of each query received so far.
func (u *fakeUpstream) Froms() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.froms...)
}

// Log returns the questions received so far.
func (u *fakeUpstream) Log() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.log...)
}
