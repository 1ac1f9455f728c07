package dnsmasq

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
	"go.uber.org/zap"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/netutil"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/pcap"
)

// udpServer serves DNS over one UDP socket with a few long-lived workers,
// each reading, answering and writing with its own buffers. miekg/dns's
// server starts a goroutine, allocates a session and sets a read deadline
// for every packet; here a query answered locally or from the cache costs
// no goroutine, and only a query that is forwarded gets one (it may wait
// for the upstream timeout). Messages are accepted or rejected exactly as
// miekg/dns's server does (DefaultMsgAcceptFunc, FORMERR/NOTIMP replies).
type udpServer struct {
	conn    *net.UDPConn
	h       *handler
	session bool             // wildcard address: reply from the address the query came to
	local   netip.Addr       // the socket's address (invalid for a wildcard address: see udpPeer.dst)
	localAP netip.AddrPort   // the socket's address and port, for the dumpfile
	batch   *ipv4.PacketConn // IPv4 address: recvmmsg/sendmmsg
	closed  atomic.Bool
	workers sync.WaitGroup
	flights sync.WaitGroup // forwarded queries in progress
}

// udpWorkers is the number of goroutines reading the socket.
func udpWorkers() int { return max(4, runtime.GOMAXPROCS(0)) }

func newUDPServer(pc net.PacketConn, h *handler) (*udpServer, error) {
	conn, ok := pc.(*net.UDPConn)
	if !ok {
		return nil, errors.New("not a UDP socket")
	}
	s := &udpServer{conn: conn, h: h, local: addrOf(conn.LocalAddr())}
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		s.localAP = ua.AddrPort()
	}
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok && ua.IP.IsUnspecified() {
		// As miekg/dns does: learn each query's destination address, to
		// answer from it.
		err6 := ipv6.NewPacketConn(conn).SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true)
		err4 := ipv4.NewPacketConn(conn).SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true)
		if err6 != nil && err4 != nil {
			return nil, err4
		}
		s.session = true
	} else if ok && ua.IP.To4() != nil && runtime.GOOS == "linux" {
		s.batch = ipv4.NewPacketConn(conn)
	}
	for range udpWorkers() {
		s.workers.Add(1)
		if s.batch != nil {
			go s.serveBatch()
		} else {
			go s.serve()
		}
	}
	return s, nil
}

// shutdown closes the socket and waits for the workers and the forwarded
// queries in progress (up to ctx).
func (s *udpServer) shutdown(ctx context.Context) error {
	s.closed.Store(true)
	err := s.conn.Close()
	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		s.flights.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

// udpPeer is where a query came from, to send the reply to.
type udpPeer struct {
	addr  netip.AddrPort
	ua    *net.UDPAddr // addr as a batch read gave it (nil: remote makes one)
	dst   netip.Addr   // wildcard socket: the address the query came to (IP_PKTINFO), the reply's source
	batch *batchWriter // in a batch: the reply is sent with the others
}

func (s *udpServer) serve() {
	defer s.workers.Done()
	in := make([]byte, dns.MaxMsgSize)
	out := make([]byte, 4096)
	var oob []byte
	if s.session {
		oob = make([]byte, netutil.OOBSize)
	}
	for {
		var (
			n    int
			peer udpPeer
			err  error
		)
		if s.session {
			var oobn int
			n, oobn, _, peer.addr, err = s.conn.ReadMsgUDPAddrPort(in, oob)
			if err == nil {
				peer.dst = netutil.ParseDst(oob[:oobn])
			}
		} else {
			n, peer.addr, err = s.conn.ReadFromUDPAddrPort(in)
		}
		if err != nil {
			if s.stopReading(err) {
				return
			}
			continue
		}
		if n < 12 {
			continue // shorter than a header: dropped, as by miekg/dns
		}
		s.handle(in[:n], peer, out)
	}
}

// stopReading reports whether the read error err ends a worker: as
// miekg/dns's server, it goes on after a temporary error only. An error
// other than the socket closing is logged.
func (s *udpServer) stopReading(err error) bool {
	if s.closed.Load() || errors.Is(err, net.ErrClosed) {
		return true
	}
	if ne, ok := err.(net.Error); ok && ne.Temporary() { //nolint:staticcheck // as miekg/dns
		return false
	}
	if r := s.h.current.Load(); r != nil {
		r.log.Error("stopped reading UDP queries", zap.Error(err))
	}
	return true
}

// udpBatch is how many datagrams a worker reads (recvmmsg) and answers
// (sendmmsg) with one system call each, when that many are waiting.
const udpBatch = 8

// serveBatch is serve with a batch of datagrams per system call: under
// load most of a query's cost is the two system calls.
func (s *udpServer) serveBatch() {
	defer s.workers.Done()
	in := make([]ipv4.Message, udpBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, dns.MaxMsgSize)}
	}
	out := make([]ipv4.Message, udpBatch)
	outBufs := make([][]byte, udpBatch)
	for i := range outBufs {
		outBufs[i] = make([]byte, 4096)
	}
	bw := &batchWriter{}
	for {
		n, err := s.batch.ReadBatch(in, 0)
		if err != nil {
			if s.stopReading(err) {
				return
			}
			continue
		}
		k := 0
		for i := range in[:n] {
			ua, ok := in[i].Addr.(*net.UDPAddr)
			if !ok || in[i].N < 12 {
				continue
			}
			bw.reply = nil
			bw.buf = outBufs[k]
			s.handle(in[i].Buffers[0][:in[i].N], udpPeer{addr: ua.AddrPort(), ua: ua, batch: bw}, nil)
			if bw.reply != nil {
				out[k].Buffers = append(out[k].Buffers[:0], bw.reply)
				out[k].Addr = ua
				k++
			}
		}
		for sent := 0; sent < k; {
			m, err := s.batch.WriteBatch(out[sent:k], 0)
			if err != nil || m <= 0 {
				// Drop the datagram that failed (like a failed sendto)
				// and send the rest.
				m = 1
			}
			sent += m
		}
		for i := range out[:k] {
			out[i].Addr = nil
		}
	}
}

// batchWriter collects the reply to one datagram of a batch.
type batchWriter struct {
	buf   []byte
	reply []byte
}

// handle answers one datagram: locally or from the cache at once, or
// forwarded in a goroutine of its own. A message miekg/dns's server
// would reject gets its FORMERR or NOTIMP reply (see accept).
func (s *udpServer) handle(msg []byte, peer udpPeer, out []byte) {
	req, ok := s.accept(msg, peer, out)
	if !ok {
		return
	}
	r := s.h.current.Load()
	if r == nil || req.Response {
		return
	}
	var client net.Addr
	if r.cfg.LogQueries || r.auth != nil || ednsUsesClient(&r.cfg.EDNS) || r.cfg.Connmark.Enable || r.cfg.Conntrack || dashboardWantsClient() {
		// (auth-peer checks the client of a zone transfer; connmark looks
		// up the client's flow; a dashboard logs it.)
		client = peer.remote()
	}
	if r.dump.Wants(pcap.Query) {
		r.dump.Packet(pcap.Query, msg, peer.addr, s.localAddrPort(peer))
	}
	p := s.replyLocal(r, req, client, peer, out)
	if p == nil {
		return
	}
	s.flights.Add(1)
	peer.batch = nil // the batch is gone by the time the answer comes
	go s.replyForward(r, req, p, peer)
}

// accept unpacks msg if miekg/dns's server accepts it
// (DefaultMsgAcceptFunc); a message it rejects gets the FORMERR or NOTIMP
// reply that server sends, and ok is false.
func (s *udpServer) accept(msg []byte, peer udpPeer, out []byte) (req *dns.Msg, ok bool) {
	dh := dns.Header{
		Id:      binary.BigEndian.Uint16(msg[0:]),
		Bits:    binary.BigEndian.Uint16(msg[2:]),
		Qdcount: binary.BigEndian.Uint16(msg[4:]),
		Ancount: binary.BigEndian.Uint16(msg[6:]),
		Nscount: binary.BigEndian.Uint16(msg[8:]),
		Arcount: binary.BigEndian.Uint16(msg[10:]),
	}
	req = new(dns.Msg)
	switch action := dns.DefaultMsgAcceptFunc(dh); action {
	case dns.MsgAccept:
		if err := req.Unpack(msg); err == nil {
			return req, true
		}
		fallthrough
	case dns.MsgReject, dns.MsgRejectNotImplemented:
		if action != dns.MsgAccept {
			// The header alone, as miekg/dns reads it before rejecting.
			var hdr [12]byte
			copy(hdr[:4], msg)
			_ = req.Unpack(hdr[:])
		}
		opcode := req.Opcode
		req.SetRcodeFormatError(req)
		req.Zero = false
		if action == dns.MsgRejectNotImplemented {
			req.Opcode = opcode
			req.Rcode = dns.RcodeNotImplemented
		}
		req.Ns, req.Answer, req.Extra = nil, nil, nil
		s.write(req, peer, out)
		return nil, false
	case dns.MsgIgnore:
		return nil, false
	}
	return req, true
}

// replyLocal sends the reply to req if it is answered locally or from the
// cache, and returns the query to forward otherwise (nil when there is
// none). A panic is answered SERVFAIL.
func (s *udpServer) replyLocal(r *resolver, req *dns.Msg, client net.Addr, peer udpPeer, out []byte) (p *pending) {
	defer func() {
		if v := recover(); v != nil {
			s.servfail(r, req, peer, out, v)
		}
	}()
	m, p, dump := r.answerLocal(req, client, true, s.localOf(peer))
	if m != nil {
		b := s.write(m, peer, out)
		if dump && r.dump.Wants(pcap.Reply) {
			r.dump.Packet(pcap.Reply, b, s.localAddrPort(peer), peer.addr)
		}
	}
	return p
}

// replyForward forwards p and sends the reply to req; it runs in a
// goroutine of its own, counted in s.flights. A panic is answered
// SERVFAIL.
func (s *udpServer) replyForward(r *resolver, req *dns.Msg, p *pending, peer udpPeer) {
	defer s.flights.Done()
	buf := make([]byte, 4096)
	defer func() {
		if v := recover(); v != nil {
			s.servfail(r, req, peer, buf, v)
		}
	}()
	if m := r.answerForward(p); m != nil {
		b := s.write(m, peer, buf)
		if r.dump.Wants(pcap.Reply) {
			r.dump.Packet(pcap.Reply, b, s.localAddrPort(peer), peer.addr)
		}
	}
}

func (s *udpServer) servfail(r *resolver, req *dns.Msg, peer udpPeer, out []byte, v any) {
	r.log.Error("panic answering query", zap.Any("panic", v))
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	s.write(m, peer, out)
}

// remote is the client's address as a net.Addr: the one a batch read
// made (a fresh one for every datagram), else a new one.
func (p udpPeer) remote() net.Addr {
	if p.ua != nil {
		return p.ua
	}
	return net.UDPAddrFromAddrPort(p.addr)
}

// local is the address the query came to: the socket's, or on a wildcard
// socket the packet's destination.
func (s *udpServer) localOf(p udpPeer) netip.Addr {
	if p.dst.IsValid() {
		return p.dst
	}
	return s.local
}

// localAddrPort is localOf with the socket's port, for the dumpfile.
func (s *udpServer) localAddrPort(p udpPeer) netip.AddrPort {
	if p.dst.IsValid() {
		return netip.AddrPortFrom(p.dst, s.localAP.Port())
	}
	return s.localAP
}

// write packs m into buf (a larger buffer is allocated when needed) and
// sends it to peer. It returns the packed message (nil when m could not be
// packed); in a batch it is sent later, before buf is used again.
func (s *udpServer) write(m *dns.Msg, peer udpPeer, buf []byte) []byte {
	if peer.batch != nil {
		buf = peer.batch.buf
	}
	b, err := packReply(m, buf)
	if err != nil {
		return nil
	}
	if peer.batch != nil {
		peer.batch.reply = b
		return b
	}
	if peer.dst.IsValid() {
		_, _, _ = s.conn.WriteMsgUDPAddrPort(b, netutil.SrcOOB(peer.dst), peer.addr)
		return b
	}
	_, _ = s.conn.WriteToUDPAddrPort(b, peer.addr)
	return b
}
