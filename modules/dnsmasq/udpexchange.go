package dnsmasq

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/netutil"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/pcap"
)

// udpTransport is where one forwarded UDP query is sent from and its
// replies come back: one or more connected sockets of its own (a random or
// a server's @source port), or the shared query-port socket.
type udpTransport struct {
	f       *forwarder
	u       Upstream
	conns   []net.Conn
	replies chan []byte
	errs    chan error // a socket's read error (a refused port): the server failed
	done    chan struct{}
	shared  *sharedPort
	key     waitKey
	sent    int // sends so far
}

// readBuffers hold the largest UDP reply, for the socket readers.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, 65535); return &b }}

// errNoReply is an upstream that did not answer within the timeout.
var errNoReply = errors.New("upstream timeout")

// openUDP prepares the transport for a query with ID id to u.
func (f *forwarder) openUDP(ctx context.Context, u Upstream, id uint16) (*udpTransport, error) {
	t := &udpTransport{f: f, u: u, replies: make(chan []byte, 8), errs: make(chan error, 1), done: make(chan struct{})}
	sp := f.sourcePorts[u]
	if sp == nil && f.shared != nil && !u.Source.IsValid() && u.Iface == "" {
		sp = f.shared
	}
	if sp != nil {
		t.shared = sp
		key, err := sp.wait(u.Addr, id, t.replies)
		if err != nil {
			return nil, err
		}
		t.key = key
		return t, nil
	}
	if err := t.addConn(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// addConn opens one more connected socket and starts reading from it.
func (t *udpTransport) addConn(ctx context.Context) error {
	var c net.Conn
	var err error
	for try := 0; try < 8; try++ {
		c, err = markDialer(ctx, t.f.udpDialer(t.u)).DialContext(ctx, "udp", t.u.Addr)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || t.u.Source.Port() != 0 {
			break // else the random source port was taken: pick another
		}
	}
	if err != nil {
		return err
	}
	t.conns = append(t.conns, c)
	go func() {
		bp := readBuffers.Get().(*[]byte)
		defer readBuffers.Put(bp)
		for {
			n, err := c.Read(*bp)
			if err != nil {
				select {
				case t.errs <- err: // an ICMP error (port unreachable), or closed
				default:
				}
				return
			}
			select {
			case t.replies <- append([]byte(nil), (*bp)[:n]...):
			case <-t.done:
				return
			}
		}
	}()
	return nil
}

// send writes a packed query from the shared socket, or from the sockets
// of the query in turn (with port-limit, the first sends each open a new
// one; then they are used round robin, as dnsmasq does: measured).
func (t *udpTransport) send(b []byte) error {
	defer func() { t.sent++ }()
	if t.shared != nil {
		return t.shared.send(t.u.Addr, b)
	}
	_, err := t.conns[t.sent%len(t.conns)].Write(b)
	return err
}

// dumpSend writes the query just sent to the dumpfile, and returns the
// addresses its reply is dumped with: dnsmasq writes its upstream queries as
// sent from the unspecified address and the real source port (measured).
func (t *udpTransport) dumpSend(d *pcap.Writer, b []byte) (local, remote netip.AddrPort) {
	server, err := netip.ParseAddrPort(t.u.Addr)
	if err != nil {
		return
	}
	var la net.Addr
	if t.shared != nil {
		c, err := t.shared.conn(server)
		if err != nil {
			return
		}
		la = c.LocalAddr()
	} else {
		la = t.conns[(t.sent-1)%len(t.conns)].LocalAddr()
	}
	local, remote = dumpAddrs(la, net.UDPAddrFromAddrPort(server))
	d.Packet(pcap.UpstreamQuery, b, local, remote)
	return local, remote
}

func (t *udpTransport) close() {
	close(t.done)
	if t.shared != nil {
		t.shared.unwait(t.key)
	}
	for _, c := range t.conns {
		_ = c.Close()
	}
}

// udpDialer is the dialer of a UDP query to u: from u's @source address
// and port, through u's @interface, from query-port... or from a random
// port in [min-port, max-port].
func (f *forwarder) udpDialer(u Upstream) *net.Dialer {
	d := f.dialer()
	if u.Source.IsValid() {
		// A server's own source port beats min-port/max-port; without one
		// the port is random as for any query.
		port := int(u.Source.Port())
		if port == 0 {
			if la, ok := d.LocalAddr.(*net.UDPAddr); ok {
				port = la.Port
			}
		}
		d.LocalAddr = &net.UDPAddr{IP: u.Source.Addr().AsSlice(), Port: port}
	}
	if u.Iface != "" {
		d.Control = netutil.BindToDevice(u.Iface)
	}
	return d
}

// tcpDialer is the dialer of a TCP query to u: from u's @source address
// (the port is the system's) and through u's @interface.
func (f *forwarder) tcpDialer(u Upstream) *net.Dialer {
	d := &net.Dialer{Timeout: f.timeout}
	if u.Source.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: u.Source.Addr().AsSlice()}
	}
	if u.Iface != "" {
		d.Control = netutil.BindToDevice(u.Iface)
	}
	return d
}

// exchangeUDP sends m to u over UDP and waits for its reply until the
// server's timeout, skipping replies with another ID and the ones
// ignore-address rejects. With fast-dns-retry it sends the same query again
// after the first delay, then after twice that, and so on, as long as the
// whole seconds since the first send are below the retry time, as dnsmasq
// does (measured); with port-limit each retry comes from a new port, up to
// that many.
func (f *forwarder) exchangeUDP(ctx context.Context, m *dns.Msg, u Upstream) (*dns.Msg, error) {
	b, err := m.Pack()
	if err != nil {
		return nil, err
	}
	t, err := f.openUDP(ctx, u, m.Id)
	if err != nil {
		return nil, err
	}
	defer t.close()
	if err := t.send(b); err != nil {
		return nil, err
	}
	var local, remote netip.AddrPort // for the dumpfile
	if f.dump != nil {
		local, remote = t.dumpSend(f.dump, b)
	}
	start := time.Now()
	deadline := start.Add(f.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	gap := f.fastRetry
	next := start.Add(gap)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		wake := deadline
		if gap > 0 && next.Before(wake) {
			wake = next
		}
		timer.Reset(time.Until(wake))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case now := <-timer.C:
			if !now.Before(deadline) {
				return nil, errNoReply
			}
			if (now.Unix()-start.Unix())*1000 >= f.fastRetryFor.Milliseconds() {
				gap = 0 // retries are over: wait for a late reply
				continue
			}
			if t.shared == nil && len(t.conns) < f.portLimit {
				if err := t.addConn(ctx); err != nil {
					f.logDebug("cannot open a socket for a retry", zap.String("upstream", u.Addr), zap.Error(err))
				}
			}
			if err := t.send(b); err != nil {
				return nil, err
			}
			if f.dump != nil {
				t.dumpSend(f.dump, b)
			}
			gap *= 2
			next = next.Add(gap)
		case err := <-t.errs:
			return nil, err
		case p := <-t.replies:
			if f.dump != nil {
				f.dump.Packet(pcap.UpstreamReply, p, remote, local)
			}
			r := new(dns.Msg)
			if err := r.Unpack(p); err != nil && !r.Truncated {
				continue
			}
			if r.Id != m.Id || len(r.Question) > 0 && len(m.Question) > 0 && !sameQuestion(r.Question[0], m.Question[0]) {
				continue
			}
			if accept := acceptOf(ctx); accept != nil && !accept(r) {
				f.logDebug("reply dropped: another client subnet", zap.String("upstream", u.Addr))
				continue
			}
			if len(m.Question) > 0 && f.ignored(m.Question[0].Qtype, r) {
				f.logDebug("reply ignored (ignore-address)", zap.String("name", m.Question[0].Name), zap.String("upstream", u.Addr))
				continue
			}
			return r, nil
		}
	}
}

func sameQuestion(a, b dns.Question) bool {
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && equalFold(a.Name, b.Name)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (f *forwarder) logDebug(msg string, fields ...zap.Field) {
	if f.debug != nil {
		f.debug.Debug(msg, fields...)
	}
}

// randomPort is a port in [lo, hi].
func randomPort(lo, hi int) int { return lo + rand.IntN(hi-lo+1) }
