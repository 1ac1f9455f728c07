package netutil

import (
	"net"
	"sync"
	"time"
)

// LimitListener is max-tcp-connections: like dnsmasq, which stops
// accepting connections while it has that many, Accept waits for a
// connection to close before taking the next one from the kernel's backlog.
// The limit is read from the running config at each Accept, so a reload
// changes it; 0 is no limit.
type LimitListener struct {
	net.Listener
	limit func() int

	mu     sync.Mutex
	active int
	freed  chan struct{} // a connection closed
	closed chan struct{}
	once   sync.Once
}

// NewLimitListener wraps ln; limit is read at each Accept (0 or less: no
// limit).
func NewLimitListener(ln net.Listener, limit func() int) *LimitListener {
	return &LimitListener{Listener: ln, limit: limit, freed: make(chan struct{}, 1), closed: make(chan struct{})}
}

// Accept waits while the limit's number of connections are open, then
// accepts the next one.
func (l *LimitListener) Accept() (net.Conn, error) {
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

func (l *LimitListener) release() {
	l.mu.Lock()
	l.active--
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// Close closes the listener and ends an Accept that waits for a slot.
func (l *LimitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	l    *LimitListener
	once sync.Once
}

// Close closes the connection and frees its slot.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.l.release)
	return err
}
