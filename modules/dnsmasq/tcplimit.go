package dnsmasq

import (
	"net"
	"sync"
	"time"
)

// tcpLimitListener is max-tcp-connections: like dnsmasq, which stops
// accepting connections while it has that many, Accept waits for a
// connection to close before taking the next one from the kernel's backlog.
// The limit is read from the running config at each Accept, so a reload
// changes it; 0 is no limit.
type tcpLimitListener struct {
	net.Listener
	limit func() int

	mu     sync.Mutex
	active int
	freed  chan struct{} // a connection closed
	closed chan struct{}
	once   sync.Once
}

func newTCPLimitListener(ln net.Listener, limit func() int) *tcpLimitListener {
	return &tcpLimitListener{Listener: ln, limit: limit, freed: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (l *tcpLimitListener) Accept() (net.Conn, error) {
	for {
		n := l.limit()
		l.mu.Lock()
		if n <= 0 || l.active < n {
			l.active++
			l.mu.Unlock()
			break
		}
		l.mu.Unlock()
		select {
		case <-l.freed:
		case <-time.After(250 * time.Millisecond): // the limit may change on reload
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return &limitConn{Conn: c, l: l}, nil
}

func (l *tcpLimitListener) release() {
	l.mu.Lock()
	l.active--
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

func (l *tcpLimitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	l    *tcpLimitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.l.release)
	return err
}
