package dnsmasq

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

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/pcap"
)

// forwarder sends queries to upstream servers.
type forwarder struct {
	timeout    time.Duration // per server
	strict     bool          // strict-order: always in configured order
	all        bool          // all-servers: ask every server at once
	maxUDPSize uint16
	preferred  atomic.Int64  // index of the server that answered last (default mode)
	slots      chan struct{} // dns-forward-max
	minPort    int           // source port range of UDP queries; 0 = the system's choice
	maxPort    int
	ignore     []netip.Prefix // ignore-address: replies holding these addresses are not taken
	debug      *zap.Logger    // log-debug: nil unless set
	dump       *pcap.Writer   // dumpfile: nil unless set

	shared       *sharedPort              // query-port: the one socket of UDP queries; nil = a socket per query
	sourcePorts  map[Upstream]*sharedPort // the sockets of servers with @source#port, shared by their queries
	portLimit    int                      // port-limit: sockets one UDP query may use over its retries
	fastRetry    time.Duration            // fast-dns-retry: first retry delay; 0 = no retries
	fastRetryFor time.Duration            // fast-dns-retry: how long retries go on
}

// dialer picks a random source port in [minPort, maxPort] for a UDP query.
func (f *forwarder) dialer() *net.Dialer {
	d := &net.Dialer{Timeout: f.timeout}
	if f.minPort > 0 || f.maxPort > 0 {
		lo, hi := max(f.minPort, 1024), f.maxPort
		if hi == 0 {
			hi = 65535
		}
		if hi >= lo {
			d.LocalAddr = &net.UDPAddr{Port: randomPort(lo, hi)}
		}
	}
	return d
}

func (f *forwarder) acquire() bool {
	if f.slots == nil {
		return true
	}
	select {
	case f.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (f *forwarder) release() {
	if f.slots != nil {
		<-f.slots
	}
}

var errNoUpstream = errors.New("no upstream server answered")

// exchangeOne asks one server with a random ID, over TCP when the client
// asked over TCP, else over UDP (see exchangeUDP). Like dnsmasq, a
// truncated UDP reply is passed on as it is: the client retries over TCP.
func (f *forwarder) exchangeOne(ctx context.Context, q *dns.Msg, u Upstream, tcp bool) (*dns.Msg, error) {
	m := q.Copy()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	start := time.Now()
	var r *dns.Msg
	var err error
	if tcp {
		m.Id = dns.Id()
		c := &dns.Client{Net: "tcp", Timeout: f.timeout, Dialer: markDialer(ctx, f.tcpDialer(u))}
		if len(f.ignore) > 0 {
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
		metrics.upstreamFailures.WithLabelValues(u.Addr).Inc()
		return nil, err
	}
	metrics.upstreamDuration.WithLabelValues(u.Addr).Observe(time.Since(start).Seconds())
	return r, nil
}

var errIgnored = errors.New("reply ignored (ignore-address)")

// dumpAddrs are the addresses of an upstream UDP exchange as the dumpfile
// shows them: the local address unspecified, with its port.
func dumpAddrs(local, remote net.Addr) (netip.AddrPort, netip.AddrPort) {
	l, _ := local.(*net.UDPAddr)
	r, _ := remote.(*net.UDPAddr)
	if l == nil || r == nil {
		return netip.AddrPort{}, netip.AddrPort{}
	}
	ra := r.AddrPort()
	la := netip.IPv4Unspecified()
	if !ra.Addr().Unmap().Is4() {
		la = netip.IPv6Unspecified()
	}
	return netip.AddrPortFrom(la, l.AddrPort().Port()), netip.AddrPortFrom(ra.Addr().Unmap(), ra.Port())
}

// exchangeIgnoring is the TCP exchange with ignore-address: only one reply
// comes, so an ignored one is a failure of that server. (Over UDP,
// exchangeUDP keeps listening for another reply, as dnsmasq does.)
func (f *forwarder) exchangeIgnoring(ctx context.Context, c *dns.Client, m *dns.Msg, addr string) (*dns.Msg, error) {
	conn, err := c.DialContext(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if c.Net != "tcp" {
		conn.UDPSize = c.UDPSize
	}
	deadline := time.Now().Add(f.timeout)
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
			if f.debug != nil {
				f.debug.Debug("reply ignored (ignore-address)", zap.String("name", m.Question[0].Name), zap.String("upstream", addr))
			}
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
func (f *forwarder) ignored(qtype uint16, r *dns.Msg) bool {
	if qtype != dns.TypeA && qtype != dns.TypeAAAA {
		return false
	}
	for _, rr := range r.Answer {
		if a, ok := rrAddr(rr); ok {
			for _, p := range f.ignore {
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

// exchange forwards q to servers and returns the first usable reply (or the
// last unusable one), failing over in order on errors.
func (f *forwarder) exchange(ctx context.Context, q *dns.Msg, servers []Upstream, tcp bool) (*dns.Msg, Upstream, error) {
	if len(servers) == 0 {
		return nil, Upstream{}, errNoUpstream
	}
	if f.all && len(servers) > 1 {
		return f.exchangeAll(ctx, q, servers, tcp)
	}
	start := 0
	if !f.strict {
		start = int(f.preferred.Load()) % len(servers)
	}
	var last *dns.Msg
	var lastU Upstream
	err := errNoUpstream
	for i := range servers {
		idx := (start + i) % len(servers)
		u := servers[idx]
		r, e := f.exchangeOne(ctx, q, u, tcp)
		if e != nil {
			err = e
			continue
		}
		if usable(r) {
			if !f.strict {
				f.preferred.Store(int64(idx))
			}
			return r, u, nil
		}
		last, lastU = r, u
	}
	if last != nil && len(servers) == 1 {
		// dnsmasq asks a lone server a second time after SERVFAIL or
		// REFUSED (measured on 2.90).
		if r, e := f.exchangeOne(ctx, q, servers[0], tcp); e == nil {
			return r, servers[0], nil
		}
	}
	if last != nil {
		return last, lastU, nil
	}
	return nil, Upstream{}, err
}

func (f *forwarder) exchangeAll(ctx context.Context, q *dns.Msg, servers []Upstream, tcp bool) (*dns.Msg, Upstream, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type res struct {
		r *dns.Msg
		u Upstream
		e error
	}
	ch := make(chan res, len(servers)) // buffered: no goroutine is left blocked
	var wg sync.WaitGroup
	for _, i := range rand.Perm(len(servers)) {
		u := servers[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, e := f.exchangeOne(ctx, q, u, tcp)
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
	return nil, Upstream{}, err
}
