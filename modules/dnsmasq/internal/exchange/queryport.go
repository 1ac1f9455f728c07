package exchange

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/caddyserver/caddy/v2"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/netutil"
)

// sharedPorts are the query-port sockets, shared by successive configs
// with the same port so that a reload does not have to rebind it.
var sharedPorts = caddy.NewUsagePool()

// waitKey identifies the query a reply on a shared port belongs to.
type waitKey struct {
	server string // ip:port
	id     uint16
}

// SharedPort is query-port=: every UDP query (except to servers with their
// own @source) leaves from one port, the given one or, for 0, one the
// system picks; replies are handed to the waiting query by server and ID.
// It is also the socket of a server=...@source#port, bound to that address
// (and @interface), which all queries to that server share.
type SharedPort struct {
	port    int
	addr    netip.Addr // the source address; invalid = the wildcard address
	iface   string     // SO_BINDTODEVICE, "" = none
	mu      sync.Mutex
	conns   map[bool]*net.UDPConn // by IPv6
	waiters map[waitKey]chan []byte
}

// AcquireQueryPort returns the query-port socket for port (0: one the
// system picks); release it with ReleaseQueryPort.
func AcquireQueryPort(port int) (*SharedPort, error) { return acquireShared(conf.Upstream{}, port) }

// ReleaseQueryPort lets go of a socket AcquireQueryPort returned; the last
// config that uses it closes it.
func ReleaseQueryPort(port int) { releaseShared(conf.Upstream{}, port) }

// AcquireSourcePort returns the shared socket of a server=...@addr#port
// (u's source address, port and interface); release it with
// ReleaseSourcePort.
func AcquireSourcePort(u conf.Upstream) (*SharedPort, error) {
	return acquireShared(u, int(u.Source.Port()))
}

// ReleaseSourcePort lets go of a socket AcquireSourcePort returned.
func ReleaseSourcePort(u conf.Upstream) { releaseShared(u, int(u.Source.Port())) }

func sharedPortKey(u conf.Upstream, port int) string {
	a := ""
	if u.Source.IsValid() {
		a = u.Source.Addr().String()
	}
	return a + "#" + strconv.Itoa(port) + "@" + u.Iface
}

// acquireShared returns the shared socket of u's source address,
// interface and port (query-port when u has neither).
func acquireShared(u conf.Upstream, port int) (*SharedPort, error) {
	v, _, err := sharedPorts.LoadOrNew(sharedPortKey(u, port), func() (caddy.Destructor, error) {
		return &SharedPort{port: port, addr: u.Source.Addr(), iface: u.Iface, conns: map[bool]*net.UDPConn{}, waiters: map[waitKey]chan []byte{}}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*SharedPort), nil
}

func releaseShared(u conf.Upstream, port int) { _, _ = sharedPorts.Delete(sharedPortKey(u, port)) }

// Destruct closes the sockets when the last config using them is gone.
func (s *SharedPort) Destruct() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = map[bool]*net.UDPConn{}
	return nil
}

// conn returns the socket for the family of server, binding it on first
// use (the wildcard address, as dnsmasq binds it).
func (s *SharedPort) conn(server netip.AddrPort) (*net.UDPConn, error) {
	v6 := server.Addr().Is6() && !server.Addr().Is4In6()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.conns[v6]; c != nil {
		return c, nil
	}
	network, laddr := "udp4", &net.UDPAddr{IP: net.IPv4zero, Port: s.port}
	if v6 {
		network, laddr = "udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: s.port}
	}
	if s.addr.IsValid() {
		laddr.IP = s.addr.AsSlice()
	}
	lc := net.ListenConfig{}
	if s.iface != "" {
		lc.Control = netutil.BindToDevice(s.iface)
	}
	pc, err := lc.ListenPacket(context.Background(), network, laddr.String())
	if err != nil {
		return nil, err
	}
	c := pc.(*net.UDPConn)
	s.conns[v6] = c
	go s.read(c)
	return c, nil
}

// read hands each reply to the query waiting for it.
func (s *SharedPort) read(c *net.UDPConn) {
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n < 12 {
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		k := waitKey{from.String(), uint16(buf[0])<<8 | uint16(buf[1])}
		s.mu.Lock()
		ch := s.waiters[k]
		s.mu.Unlock()
		if ch != nil {
			select {
			case ch <- append([]byte(nil), buf[:n]...):
			default: // the query is not reading any more
			}
		}
	}
}

var errIDBusy = errors.New("query ID in use on the query port")

// wait registers a query with ID id to server; replies go to ch.
func (s *SharedPort) wait(server string, id uint16, ch chan []byte) (waitKey, error) {
	ap, err := netip.ParseAddrPort(server)
	if err != nil {
		return waitKey{}, err
	}
	if _, err := s.conn(ap); err != nil {
		return waitKey{}, err
	}
	k := waitKey{netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), id}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiters[k] != nil {
		return waitKey{}, errIDBusy
	}
	s.waiters[k] = ch
	return k, nil
}

func (s *SharedPort) unwait(k waitKey) {
	s.mu.Lock()
	delete(s.waiters, k)
	s.mu.Unlock()
}

// send writes a packed query to server.
func (s *SharedPort) send(server string, b []byte) error {
	ap, err := netip.ParseAddrPort(server)
	if err != nil {
		return err
	}
	c, err := s.conn(ap)
	if err != nil {
		return err
	}
	_, err = c.WriteToUDPAddrPort(b, ap)
	return err
}
