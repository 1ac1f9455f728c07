package exchange

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

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/netutil"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/pcap"
	"github.com/frontdesk-proxy/frontdesk/modules/internal/ascii"
)

// udpTransport is where one forwarded UDP query is sent from and its
// replies come back: one or more connected sockets of its own (a random or
// a server's @source port), or the shared query-port socket.
type udpTransport struct {
	f       *Client
	u       conf.Upstream
	conns   []net.Conn
	replies chan []byte
	errs    chan error // a socket's read error (a refused port): the server failed
	done    chan struct{}
	shared  *SharedPort
	key     waitKey
	sent    int // sends so far

	// The dumpfile's addresses of the query (local, remote); its replies
	// are dumped with them swapped.
	dumpLocal, dumpRemote netip.AddrPort

	// fast-dns-retry: the first send, the current delay between sends
	// (0 when retries are over) and the time of the next one.
	start time.Time
	gap   time.Duration
	next  time.Time
}

// readBuffers hold the largest UDP reply, for the socket readers.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, 65535); return &b }}

// errNoReply is an upstream that did not answer within the timeout.
var errNoReply = errors.New("upstream timeout")

// openUDP prepares the transport for a query with ID id to u.
func (f *Client) openUDP(ctx context.Context, u conf.Upstream, id uint16) (*udpTransport, error) {
	t := &udpTransport{f: f, u: u, replies: make(chan []byte, 8), errs: make(chan error, 1), done: make(chan struct{})}
	sp := f.SourcePorts[u]
	if sp == nil && f.QueryPort != nil && !u.Source.IsValid() && u.Iface == "" {
		sp = f.QueryPort
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
func (f *Client) udpDialer(u conf.Upstream) *net.Dialer {
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
func (f *Client) tcpDialer(u conf.Upstream) *net.Dialer {
	d := &net.Dialer{Timeout: f.Timeout}
	if u.Source.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: u.Source.Addr().AsSlice()}
	}
	if u.Iface != "" {
		d.Control = netutil.BindToDevice(u.Iface)
	}
	return d
}

// exchangeUDP sends m to u over UDP and waits for its reply until the
// server's timeout (see await).
func (f *Client) exchangeUDP(ctx context.Context, m *dns.Msg, u conf.Upstream) (*dns.Msg, error) {
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
	sentOf(ctx)()
	if f.Dump != nil {
		t.dumpLocal, t.dumpRemote = t.dumpSend(f.Dump, b)
	}
	return t.await(ctx, m, b)
}

// await waits for the reply to m (packed as b) until the server's
// timeout, skipping the datagrams reply does not take. With
// fast-dns-retry it sends the same query again after the first delay,
// then after twice that, and so on (see retry).
func (t *udpTransport) await(ctx context.Context, m *dns.Msg, b []byte) (*dns.Msg, error) {
	t.start = time.Now()
	deadline := t.start.Add(t.f.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	t.gap = t.f.FastRetry
	t.next = t.start.Add(t.gap)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		wake := deadline
		if t.gap > 0 && t.next.Before(wake) {
			wake = t.next
		}
		timer.Reset(time.Until(wake))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case now := <-timer.C:
			if !now.Before(deadline) {
				return nil, errNoReply
			}
			if err := t.retry(ctx, now, b); err != nil {
				return nil, err
			}
		case err := <-t.errs:
			return nil, err
		case p := <-t.replies:
			if r := t.reply(ctx, m, p); r != nil {
				return r, nil
			}
		}
	}
}

// retry sends the query b again, as long as the whole seconds since the
// first send are below the retry time, as dnsmasq does (measured); with
// port-limit each retry comes from a new port, up to that many.
func (t *udpTransport) retry(ctx context.Context, now time.Time, b []byte) error {
	f := t.f
	if (now.Unix()-t.start.Unix())*1000 >= f.FastRetryFor.Milliseconds() {
		t.gap = 0 // retries are over: wait for a late reply
		return nil
	}
	if t.shared == nil && len(t.conns) < f.PortLimit {
		if err := t.addConn(ctx); err != nil {
			f.logDebug("cannot open a socket for a retry", zap.String("upstream", t.u.Addr), zap.Error(err))
		}
	}
	if err := t.send(b); err != nil {
		return err
	}
	if f.Dump != nil {
		t.dumpSend(f.Dump, b)
	}
	t.gap *= 2
	t.next = t.next.Add(t.gap)
	return nil
}

// reply returns the datagram p as the reply to m, or nil when the query
// does not take it: it does not unpack, has another ID or question, holds
// another client subnet (add-subnet) or an ignore-address address.
func (t *udpTransport) reply(ctx context.Context, m *dns.Msg, p []byte) *dns.Msg {
	f := t.f
	if f.Dump != nil {
		f.Dump.Packet(pcap.UpstreamReply, p, t.dumpRemote, t.dumpLocal)
	}
	r := new(dns.Msg)
	if err := r.Unpack(p); err != nil && !r.Truncated {
		return nil
	}
	if r.Id != m.Id || len(r.Question) > 0 && len(m.Question) > 0 && !sameQuestion(r.Question[0], m.Question[0]) {
		return nil
	}
	if accept := acceptOf(ctx); accept != nil && !accept(r) {
		f.logDebug("reply dropped: another client subnet", zap.String("upstream", t.u.Addr))
		return nil
	}
	if len(m.Question) > 0 && f.ignored(m.Question[0].Qtype, r) {
		f.logDebug("reply ignored (ignore-address)", zap.String("name", m.Question[0].Name), zap.String("upstream", t.u.Addr))
		return nil
	}
	return r
}

func sameQuestion(a, b dns.Question) bool {
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && ascii.EqualFold(a.Name, b.Name)
}

func (f *Client) logDebug(msg string, fields ...zap.Field) {
	if f.Debug != nil {
		f.Debug.Debug(msg, fields...)
	}
}

// randomPort is a port in [lo, hi].
func randomPort(lo, hi int) int { return lo + rand.IntN(hi-lo+1) }

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
