package dnsmasq

import (
	"context"
	"net"
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
	current atomic.Pointer[Resolver]
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
	m := r.Answer(req, w.RemoteAddr(), isUDP(w))
	if m != nil {
		_ = w.WriteMsg(m)
	}
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

// Answer builds the reply to req; udp selects the UDP size limit. It returns
// nil when the query is dropped.
func (r *Resolver) Answer(req *dns.Msg, client net.Addr, udp bool) *dns.Msg {
	m, p := r.answerLocal(req, client, udp)
	if p != nil {
		m = r.answerForward(p)
	}
	return m
}

// answerLocal answers req without forwarding it. When the answer must come
// from an upstream server it returns the pending query instead, for
// answerForward (which may block for the upstream timeout).
func (r *Resolver) answerLocal(req *dns.Msg, client net.Addr, udp bool) (*dns.Msg, *pending) {
	st := r.stats
	st.queries.Add(1)
	if req.Opcode != dns.OpcodeQuery {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeNotImplemented)
		m.RecursionAvailable = true
		return m, nil
	}
	if len(req.Question) == 1 && req.Question[0].Qclass == dns.ClassCHAOS {
		if a, ok := r.chaos(req.Question[0]); ok {
			return r.reply(req, a, client, udp), nil
		}
		// Other CHAOS names are forwarded, as dnsmasq does.
	} else if len(req.Question) != 1 || req.Question[0].Qclass != dns.ClassINET && req.Question[0].Qclass != dns.ClassANY {
		st.malformed.Add(1)
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		m.RecursionAvailable = true
		return m, nil
	}
	if _, ok := dns.IsDomainName(req.Question[0].Name); !ok {
		st.malformed.Add(1)
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		return m, nil
	}
	a, p := r.resolveLocal(req, !udp)
	if p != nil {
		p.client, p.udp = client, udp
		return nil, p
	}
	return r.reply(req, a, client, udp), nil
}

// answerForward forwards a pending query and builds the reply.
func (r *Resolver) answerForward(p *pending) *dns.Msg {
	ctx, cancel := context.WithTimeout(context.Background(), r.fwd.timeout*time.Duration(max(1, len(r.defaults)))+time.Second)
	defer cancel()
	a := r.forward(ctx, p)
	return r.reply(p.req, a, p.client, p.udp)
}

// reply turns the answer to req into the reply message and counts it.
func (r *Resolver) reply(req *dns.Msg, a answer, client net.Addr, udp bool) *dns.Msg {
	st := r.stats
	src := a.source
	switch src {
	case "drop":
		return nil
	case "local":
		st.local.Add(1)
	case "cache":
		st.cached.Add(1)
	case "none":
	default:
		st.forwarded.Add(1)
		src = "upstream"
	}
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
	m.RecursionAvailable = true
	m.Answer, m.Ns, m.Extra = a.answer, a.ns, a.extra
	m.Compress = true
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(uint16(r.cfg.EDNSPacketMax), false)
		if len(a.opts) > 0 {
			m.IsEdns0().Option = a.opts
		}
		size = max(dns.MinMsgSize, min(int(opt.UDPSize()), r.cfg.EDNSPacketMax))
	}
	if udp {
		m.Truncate(size)
	}
	m.Truncated = m.Truncated || a.tc
	metrics.countQuery(req.Question[0].Qtype, m.Rcode, src)
	if r.debug != nil {
		r.debug.Debug("answer", zap.String("name", req.Question[0].Name), zap.String("type", dns.TypeToString[req.Question[0].Qtype]),
			zap.String("source", a.source), zap.String("rcode", dns.RcodeToString[m.Rcode]), zap.Bool("aa", m.Authoritative),
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
			zap.String("source", a.source),
			zap.Int("answers", len(m.Answer)))
	}
	return m
}

// typeLabel names a query type for metrics; unknown types share one label
// so that clients cannot grow the series without bound.
func typeLabel(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "other"
}
