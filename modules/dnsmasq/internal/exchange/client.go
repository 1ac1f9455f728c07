package exchange

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/pcap"
)

// Client sends a query to one upstream server and brings back its reply.
// Its settings are the configuration's and are not changed once it
// forwards; set Timeout at least (with none, every exchange times out at
// once).
type Client struct {
	Timeout time.Duration  // per server
	MinPort int            // min-port: the source port range of UDP queries; 0 = the system's choice
	MaxPort int            // max-port
	Ignore  []netip.Prefix // ignore-address: replies holding these addresses are not taken
	Debug   *zap.Logger    // log-debug: nil unless set
	Dump    *pcap.Writer   // dumpfile: nil unless set

	QueryPort    *SharedPort                   // query-port: the one socket of UDP queries; nil = a socket per query
	SourcePorts  map[conf.Upstream]*SharedPort // the sockets of servers with @source#port, shared by their queries
	PortLimit    int                           // port-limit: sockets one UDP query may use over its retries
	FastRetry    time.Duration                 // fast-dns-retry: first retry delay; 0 = no retries
	FastRetryFor time.Duration                 // fast-dns-retry: how long retries go on

	// Observe, if set, is told of each exchange with one server: how
	// long it took, or why it failed (took is then 0).
	Observe func(server string, took time.Duration, err error)
}

// dialer picks a random source port in [MinPort, MaxPort] for a UDP query.
func (f *Client) dialer() *net.Dialer {
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

// Exchange asks server u with a random ID, over TCP when the client
// asked over TCP, else over UDP (see exchangeUDP). Like dnsmasq, a
// truncated UDP reply is passed on as it is: the client retries over TCP.
func (f *Client) Exchange(ctx context.Context, q *dns.Msg, u conf.Upstream, tcp bool) (*dns.Msg, error) {
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
func (f *Client) exchangeIgnoring(ctx context.Context, c *dns.Client, m *dns.Msg, addr string) (*dns.Msg, error) {
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
func (f *Client) ignored(qtype uint16, r *dns.Msg) bool {
	if qtype != dns.TypeA && qtype != dns.TypeAAAA {
		return false
	}
	for _, rr := range r.Answer {
		if a, ok := RRAddr(rr); ok {
			for _, p := range f.Ignore {
				if p.Contains(a) {
					return true
				}
			}
		}
	}
	return false
}

// RRAddr is the address of an A or AAAA record (an IPv4-mapped AAAA
// address unmapped); ok is false for any other record or a malformed
// address. The one reading of an answer's addresses, for ignore-address
// here and for the resolver's bogus-nxdomain, rebind and ipset checks.
func RRAddr(rr dns.RR) (addr netip.Addr, ok bool) {
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
