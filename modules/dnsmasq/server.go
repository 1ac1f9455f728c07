package dnsmasq

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"
)

// stats are the app's counters, kept across reloads with the cache.
type stats struct {
	queries, local, cached, forwarded, upstreamFailures, malformed atomic.Uint64
}

// handler serves DNS messages with the resolver of the running config.
type handler struct {
	current atomic.Pointer[resolver]
}

// ServeDNS answers one message. It never panics out: a bad message gets
// FORMERR (or nothing, for responses), an unexpected failure SERVFAIL.
func (h *handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	r := h.current.Load()
	if r == nil || req.Response {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("panic answering query", zap.Any("panic", v))
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeServerFailure)
			_ = w.WriteMsg(m)
		}
	}()
	m := r.Answer(req, w.RemoteAddr(), isUDP(w), addrOf(w.LocalAddr()))
	if m == closeConnection {
		_ = w.Close()
		return
	}
	if m == nil {
		return
	}
	if len(m.Answer) > axfrChunk && req.Question[0].Qtype == dns.TypeAXFR {
		// A zone transfer goes out in several messages.
		all := m.Answer
		for len(all) > 0 {
			n := min(axfrChunk, len(all))
			m.Answer, all = all[:n], all[n:]
			if w.WriteMsg(m) != nil {
				return
			}
		}
		return
	}
	if w.WriteMsg(m) != nil {
		// Most likely a message the wire cannot carry (nothing was
		// sent): SERVFAIL, not an answer the client would wait out.
		_ = w.WriteMsg(servfailOf(m))
	}
}

// packReply packs m into buf; a message that cannot be packed (a record
// the wire cannot carry) becomes SERVFAIL for its question instead of no
// answer at all.
func packReply(m *dns.Msg, buf []byte) ([]byte, error) {
	b, err := m.PackBuffer(buf)
	if err == nil {
		return b, nil
	}
	return servfailOf(m).PackBuffer(buf)
}

// servfailOf is the SERVFAIL reply in place of m: its header and question
// (and EDNS0 record), no records.
func servfailOf(m *dns.Msg) *dns.Msg {
	f := &dns.Msg{MsgHdr: m.MsgHdr, Question: m.Question}
	f.Rcode, f.Authoritative, f.Truncated = dns.RcodeServerFailure, false, false
	if opt := m.IsEdns0(); opt != nil {
		f.Extra = []dns.RR{opt}
	}
	return f
}

// maxTCP is max-tcp-connections of the running config (0: no limit).
func (h *handler) maxTCP() int {
	if r := h.current.Load(); r != nil {
		return r.cfg.MaxTCP
	}
	return 0
}

func isUDP(w dns.ResponseWriter) bool {
	_, ok := w.RemoteAddr().(*net.UDPAddr)
	return ok
}

// axfrChunk is how many records one message of a zone transfer holds.
const axfrChunk = 100

// answerSource says where an answer came from: it decides what reply
// sends (nothing, a closed connection, a message) and how it is counted.
type answerSource string

// The sources of an answer.
const (
	sourceLocal    answerSource = "local"    // configuration, hosts, the domain table
	sourceCache    answerSource = "cache"    // the cache
	sourceUpstream answerSource = "upstream" // a forwarded reply; answer.server names the server
	sourceNone     answerSource = "none"     // no server to ask: REFUSED
	sourceDrop     answerSource = "drop"     // no reply at all (a forwarding loop)
	// sourceClose is an answer that is no answer over TCP: the connection
	// is closed, as dnsmasq closes it when it cannot reach the upstream
	// server (forward.c tcp_request).
	sourceClose answerSource = "close"
)

// logSource is how a log line names the source: the server's address for
// a forwarded reply.
func (a *answer) logSource() string {
	if a.source == sourceUpstream {
		return a.server
	}
	return string(a.source)
}

// closeConnection is the reply that tells ServeDNS to close the
// connection instead (an answer of sourceClose).
var closeConnection = new(dns.Msg)

// Answer builds the reply to req; udp selects the UDP size limit, local is
// the address the query arrived at (invalid when unknown; auth-server and
// localise-queries depend on it). It returns nil when the query is dropped.
func (r *resolver) Answer(req *dns.Msg, client net.Addr, udp bool, local netip.Addr) *dns.Msg {
	m, p, _ := r.answerLocal(req, client, udp, local)
	if p != nil {
		m = r.answerForward(p)
	}
	return m
}

// answerLocal answers req without forwarding it. When the answer must come
// from an upstream server it returns the pending query instead, for
// answerForward (which may block for the upstream timeout). The bool says
// whether the reply goes to the dumpfile.
func (r *resolver) answerLocal(req *dns.Msg, client net.Addr, udp bool, local netip.Addr) (*dns.Msg, *pending, bool) {
	r.stats.queries.Add(1)
	if m, send, done := r.answerUnusual(req, client, udp, local); done {
		return m, nil, send
	}
	var mark uint32
	if r.cfg.Connmark.Enable || r.cfg.Conntrack {
		mark = r.clientMark(client, local, udp)
	}
	if r.cfg.Connmark.Enable && !connmarkAllowed(&r.cfg.Connmark, mark, canon(req.Question[0].Name)) {
		return r.reply(req, answer{rcode: dns.RcodeRefused, ede: dns.ExtendedErrorCodeBlocked, source: sourceLocal}, client, udp), nil, true
	}
	a, p := r.resolveLocal(req, !udp, local)
	if p != nil {
		p.client, p.udp = client, udp
		if r.cfg.Conntrack {
			p.mark = mark
		}
		return nil, p, true
	}
	return r.reply(req, a, client, udp), nil, !a.quiet
}

// answerUnusual answers what is not a class IN question of a well-formed
// query: other opcodes (NOTIMP), CHAOS (the chaos names, auth zones),
// several questions or another class (FORMERR), a name that is not one;
// and an authoritative zone's questions. done says it did (m nil and send
// false: nothing is sent).
func (r *resolver) answerUnusual(req *dns.Msg, client net.Addr, udp bool, local netip.Addr) (m *dns.Msg, send, done bool) {
	if req.Opcode != dns.OpcodeQuery {
		return rcodeReply(req, dns.RcodeNotImplemented, true), true, true
	}
	if r.auth != nil && len(req.Question) == 1 && req.Question[0].Qclass != dns.ClassINET && r.auth.listen[local] {
		// An auth-server address answers class IN only (measured: CHAOS
		// gets REFUSED there).
		return r.reply(req, answer{rcode: dns.RcodeRefused, noRA: true, source: sourceLocal}, client, udp), true, true
	}
	if len(req.Question) == 1 && req.Question[0].Qclass == dns.ClassCHAOS {
		if a, ok := r.chaos(req.Question[0]); ok {
			return r.reply(req, a, client, udp), true, true
		}
		if r.auth != nil && r.auth.zoneOf(canon(req.Question[0].Name)) != nil {
			// A name in an auth-zone: NXDOMAIN, not forwarded (measured).
			return r.reply(req, answer{rcode: dns.RcodeNameError, source: sourceLocal}, client, udp), true, true
		}
		// Other CHAOS names are forwarded, as dnsmasq does.
	} else if len(req.Question) != 1 || req.Question[0].Qclass != dns.ClassINET && req.Question[0].Qclass != dns.ClassANY {
		r.stats.malformed.Add(1)
		return rcodeReply(req, dns.RcodeFormatError, true), true, true
	}
	if _, ok := dns.IsDomainName(req.Question[0].Name); !ok {
		r.stats.malformed.Add(1)
		return rcodeReply(req, dns.RcodeFormatError, false), true, true
	}
	if r.auth != nil && req.Question[0].Qclass == dns.ClassINET {
		if udp && req.Question[0].Qtype == dns.TypeAXFR {
			return nil, false, true // dnsmasq does not answer a zone transfer over UDP (measured)
		}
		if a, ok := r.authAnswer(req, client, local); ok {
			return r.reply(req, a, client, udp), true, true
		}
	}
	return nil, false, false
}

// rcodeReply is the bare reply to req with rcode, recursion available or
// not.
func rcodeReply(req *dns.Msg, rcode int, ra bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	m.RecursionAvailable = ra
	return m
}

// answerForward forwards a pending query and builds the reply.
func (r *resolver) answerForward(p *pending) *dns.Msg {
	ctx, cancel := context.WithTimeout(context.Background(), r.fwd.Timeout*time.Duration(max(1, len(r.defaults)))+time.Second)
	defer cancel()
	start := time.Now()
	a := r.forward(ctx, p)
	a.took = time.Since(start)
	return r.reply(p.req, a, p.client, p.udp)
}

// reply turns the answer to req into the reply message and counts it.
func (r *resolver) reply(req *dns.Msg, a answer, client net.Addr, udp bool) *dns.Msg {
	st := r.stats
	switch a.source {
	case sourceDrop:
		return nil
	case sourceClose:
		return closeConnection
	case sourceLocal:
		st.local.Add(1)
	case sourceCache:
		st.cached.Add(1)
	case sourceUpstream:
		st.forwarded.Add(1)
	}
	src := string(a.source)
	m := new(dns.Msg)
	// m.SetReply(req), sharing the question (len 1, never changed) rather
	// than copying it.
	m.Id = req.Id
	m.Response = true
	m.Opcode = req.Opcode
	if m.Opcode == dns.OpcodeQuery {
		m.RecursionDesired = req.RecursionDesired
		m.CheckingDisabled = req.CheckingDisabled
	}
	m.Question = req.Question[:1:1]
	m.Rcode = a.rcode
	m.Authoritative = a.aa
	m.RecursionAvailable = !a.noRA
	m.Answer, m.Ns, m.Extra = a.answer, a.ns, a.extra
	m.Compress = true
	do, size := r.setEDNS(m, req, &a)
	r.dnssecFlags(m, req, a, do)
	if udp {
		r.truncate(m, &a, size)
	}
	m.Truncated = m.Truncated || a.tc
	metrics.countQuery(req.Question[0].Qtype, m.Rcode, src)
	recordAnswer(req, m, &a, client)
	r.logAnswer(req, m, &a, client)
	return m
}

// setEDNS gives the reply an OPT record when the query had one: the DO bit
// echoed (RFC 3225, as dnsmasq does) or relayed from a fresh forwarded
// answer, the answer's options and extended DNS error. It returns the DO
// bit and the UDP size the reply must fit.
func (r *resolver) setEDNS(m, req *dns.Msg, a *answer) (do bool, size int) {
	size = dns.MinMsgSize
	opt := req.IsEdns0()
	if opt == nil {
		return false, size
	}
	do = opt.Do()
	m.SetEdns0(uint16(r.cfg.EDNSPacketMax), do)
	if a.relayDO {
		// A fresh forwarded answer carries the server's DO bit.
		m.IsEdns0().SetDo(a.do)
	}
	if len(a.opts) > 0 {
		// A copy: the extended DNS error below is appended to it.
		m.IsEdns0().Option = slices.Clone(a.opts)
	}
	size = max(dns.MinMsgSize, min(int(opt.UDPSize()), r.cfg.EDNSPacketMax))
	if a.ede != 0 {
		o := m.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_EDE{InfoCode: a.ede})
	}
	return do, size
}

// truncate fits a UDP reply into size. A forwarded answer larger than the
// client's buffer gets TC with no records (the OPT apart), as dnsmasq
// sends it (measured); others are cut as miekg/dns cuts them.
func (r *resolver) truncate(m *dns.Msg, a *answer, size int) {
	if a.source != sourceUpstream || m.Len() <= size {
		m.Truncate(size)
		return
	}
	m.Answer, m.Ns = nil, nil
	var opt []dns.RR
	if o := m.IsEdns0(); o != nil {
		opt = []dns.RR{o}
	}
	m.Extra = opt
	m.Truncated = true
	// With dnssec, without AD (proxy-dnssec keeps it; measured).
	m.AuthenticatedData = m.AuthenticatedData && !r.cfg.DNSSEC.Validate
}

// logAnswer writes the debug line of an answer and, with log-queries, the
// query line.
func (r *resolver) logAnswer(req, m *dns.Msg, a *answer, client net.Addr) {
	if r.debug != nil {
		r.debug.Debug("answer", zap.String("name", req.Question[0].Name), zap.String("type", dns.TypeToString[req.Question[0].Qtype]),
			zap.String("source", a.logSource()), zap.String("rcode", dns.RcodeToString[m.Rcode]), zap.Bool("aa", m.Authoritative),
			zap.Bool("truncated", m.Truncated), zap.Int("answers", len(m.Answer)))
	}
	if r.cfg.LogQueries {
		c := "-"
		if client != nil {
			c = client.String()
		}
		r.log.Info("query",
			zap.String("client", c),
			zap.String("name", req.Question[0].Name),
			zap.String("type", dns.TypeToString[req.Question[0].Qtype]),
			zap.String("rcode", dns.RcodeToString[m.Rcode]),
			zap.String("source", a.logSource()),
			zap.Int("answers", len(m.Answer)))
	}
}

// typeLabel names a query type for metrics; unknown types share one label
// so that clients cannot grow the series without bound.
func typeLabel(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "other"
}
