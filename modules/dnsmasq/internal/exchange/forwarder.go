package exchange

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/pcap"
)

// Forwarder sends queries to upstream servers. Its settings are the
// configuration's and are not changed once it forwards; set Timeout at
// least (with none, every exchange times out at once).
type Forwarder struct {
	Timeout    time.Duration  // per server
	Strict     bool           // strict-order: always in configured order
	All        bool           // all-servers: ask every server at once
	ForwardMax int            // dns-forward-max: queries in flight at once; 0 = no limit
	MinPort    int            // min-port: the source port range of UDP queries; 0 = the system's choice
	MaxPort    int            // max-port
	Ignore     []netip.Prefix // ignore-address: replies holding these addresses are not taken
	Debug      *zap.Logger    // log-debug: nil unless set
	Dump       *pcap.Writer   // dumpfile: nil unless set

	QueryPort    *SharedPort                   // query-port: the one socket of UDP queries; nil = a socket per query
	SourcePorts  map[conf.Upstream]*SharedPort // the sockets of servers with @source#port, shared by their queries
	PortLimit    int                           // port-limit: sockets one UDP query may use over its retries
	FastRetry    time.Duration                 // fast-dns-retry: first retry delay; 0 = no retries
	FastRetryFor time.Duration                 // fast-dns-retry: how long retries go on

	// Observe, if set, is told of each exchange with one server: how
	// long it took, or why it failed (took is then 0).
	Observe func(server string, took time.Duration, err error)

	preferred atomic.Int64 // index of the server that answered last (default mode)
	slotsOnce sync.Once
	slots     chan struct{} // ForwardMax
}

// dialer picks a random source port in [MinPort, MaxPort] for a UDP query.
func (f *Forwarder) dialer() *net.Dialer {
	d := &net.Dialer{Timeout: f.Timeout}
	if f.MinPort > 0 || f.MaxPort > 0 {
		lo, hi := max(f.MinPort, 1024), f.MaxPort
		if hi == 0 {
			hi = 65535
		}
		if hi >= lo {
			d.LocalAddr = &net.UDPAddr{Port: randomPort(lo, hi)}
		}
	}
	return d
}

// Acquire takes one of the ForwardMax slots of queries in flight; it
// reports false when all are taken. Give the slot back with Release.
func (f *Forwarder) Acquire() bool {
	if f.ForwardMax <= 0 {
		return true
	}
	f.slotsOnce.Do(func() { f.slots = make(chan struct{}, f.ForwardMax) })
	select {
	case f.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives back a slot that Acquire took.
func (f *Forwarder) Release() {
	if f.ForwardMax > 0 {
		<-f.slots
	}
}

var errNoUpstream = errors.New("no upstream server answered")

// ExchangeOne asks one server with a random ID, over TCP when the client
// asked over TCP, else over UDP (see exchangeUDP). Like dnsmasq, a
// truncated UDP reply is passed on as it is: the client retries over TCP.
func (f *Forwarder) ExchangeOne(ctx context.Context, q *dns.Msg, u conf.Upstream, tcp bool) (*dns.Msg, error) {
	m := q.Copy()
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	start := time.Now()
	var r *dns.Msg
	var err error
	if tcp {
		m.Id = dns.Id()
		c := &dns.Client{Net: "tcp", Timeout: f.Timeout, Dialer: markDialer(ctx, f.tcpDialer(u))}
		if len(f.Ignore) > 0 {
			r, err = f.exchangeIgnoring(ctx, c, m, u.Addr)
		} else {
			r, _, err = c.ExchangeContext(ctx, m, u.Addr)
		}
		if err == nil && r.Id != m.Id {
			err = errors.New("reply ID mismatch")
		}
		if accept := acceptOf(ctx); err == nil && accept != nil && !accept(r) {
			err = errors.New("reply with another client subnet")
		}
	} else {
		for try := 0; try < 8; try++ {
			m.Id = dns.Id()
			r, err = f.exchangeUDP(ctx, m, u)
			if !errors.Is(err, errIDBusy) {
				break // else another query to u has this ID on the query port
			}
		}
	}
	if err != nil {
		if f.Observe != nil {
			f.Observe(u.Addr, 0, err)
		}
		return nil, err
	}
	if f.Observe != nil {
		f.Observe(u.Addr, time.Since(start), nil)
	}
	return r, nil
}

var errIgnored = errors.New("reply ignored (ignore-address)")

// exchangeIgnoring is the TCP exchange with ignore-address: only one reply
// comes, so an ignored one is a failure of that server. (Over UDP,
// exchangeUDP keeps listening for another reply, as dnsmasq does.)
func (f *Forwarder) exchangeIgnoring(ctx context.Context, c *dns.Client, m *dns.Msg, addr string) (*dns.Msg, error) {
	conn, err := c.DialContext(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if c.Net != "tcp" {
		conn.UDPSize = c.UDPSize
	}
	deadline := time.Now().Add(f.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	out, err := m.Pack()
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(out); err != nil {
		return nil, err
	}
	for {
		b, err := conn.ReadMsgHeader(nil)
		r := new(dns.Msg)
		if err == nil {
			err = r.Unpack(b)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		if r.Id != m.Id {
			if c.Net == "tcp" {
				return nil, errors.New("reply ID mismatch")
			}
			continue
		}
		if f.ignored(m.Question[0].Qtype, r) {
			f.logDebug("reply ignored (ignore-address)", zap.String("name", m.Question[0].Name), zap.String("upstream", addr))
			if c.Net == "tcp" {
				return nil, errIgnored
			}
			continue
		}
		return r, nil
	}
}

// ignored reports whether r, a reply to an A or AAAA query, holds an
// ignore-address address in its answer.
func (f *Forwarder) ignored(qtype uint16, r *dns.Msg) bool {
	if qtype != dns.TypeA && qtype != dns.TypeAAAA {
		return false
	}
	for _, rr := range r.Answer {
		if a, ok := addrOf(rr); ok {
			for _, p := range f.Ignore {
				if p.Contains(a) {
					return true
				}
			}
		}
	}
	return false
}

// usable reports whether a reply ends the search for an answer.
func usable(r *dns.Msg) bool {
	return r.Rcode != dns.RcodeServerFailure && r.Rcode != dns.RcodeRefused
}

// Exchange forwards q to servers and returns the first usable reply (or the
// last unusable one), failing over in order on errors.
func (f *Forwarder) Exchange(ctx context.Context, q *dns.Msg, servers []conf.Upstream, tcp bool) (*dns.Msg, conf.Upstream, error) {
	if len(servers) == 0 {
		return nil, conf.Upstream{}, errNoUpstream
	}
	if f.All && len(servers) > 1 {
		return f.exchangeAll(ctx, q, servers, tcp)
	}
	start := 0
	if !f.Strict {
		start = int(f.preferred.Load()) % len(servers)
	}
	var last *dns.Msg
	var lastU conf.Upstream
	err := errNoUpstream
	for i := range servers {
		idx := (start + i) % len(servers)
		u := servers[idx]
		r, e := f.ExchangeOne(ctx, q, u, tcp)
		if e != nil {
			err = e
			continue
		}
		if usable(r) {
			if !f.Strict {
				f.preferred.Store(int64(idx))
			}
			return r, u, nil
		}
		last, lastU = r, u
	}
	if last != nil && len(servers) == 1 {
		// dnsmasq asks a lone server a second time after SERVFAIL or
		// REFUSED (measured on 2.90).
		if r, e := f.ExchangeOne(ctx, q, servers[0], tcp); e == nil {
			return r, servers[0], nil
		}
	}
	if last != nil {
		return last, lastU, nil
	}
	return nil, conf.Upstream{}, err
}

func (f *Forwarder) exchangeAll(ctx context.Context, q *dns.Msg, servers []conf.Upstream, tcp bool) (*dns.Msg, conf.Upstream, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type res struct {
		r *dns.Msg
		u conf.Upstream
		e error
	}
	ch := make(chan res, len(servers)) // buffered: no goroutine is left blocked
	var wg sync.WaitGroup
	for _, i := range rand.Perm(len(servers)) {
		u := servers[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, e := f.ExchangeOne(ctx, q, u, tcp)
			ch <- res{r, u, e}
		}()
	}
	var last *res
	err := errNoUpstream
	for range servers {
		x := <-ch
		if x.e != nil {
			err = x.e
			continue
		}
		if usable(x.r) {
			return x.r, x.u, nil
		}
		last = &x
	}
	if last != nil {
		return last.r, last.u, nil
	}
	return nil, conf.Upstream{}, err
}

// addrOf is the address of an A or AAAA record.
func addrOf(rr dns.RR) (netip.Addr, bool) {
	switch v := rr.(type) {
	case *dns.A:
		a, ok := netip.AddrFromSlice(v.A.To4())
		return a, ok
	case *dns.AAAA:
		a, ok := netip.AddrFromSlice(v.AAAA)
		return a.Unmap(), ok
	}
	return netip.Addr{}, false
}
