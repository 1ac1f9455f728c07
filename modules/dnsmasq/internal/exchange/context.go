package exchange

import (
	"context"
	"net"
	"syscall"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/netutil"
)

// What a query's context tells the exchange besides its deadline: the
// socket mark of its upstream sockets (conntrack), which replies it takes
// (add-subnet), and whom to tell once its query is sent (all-servers).

type markKey struct{}

// WithMark gives the upstream sockets of a forwarded query a socket mark.
func WithMark(ctx context.Context, mark uint32) context.Context {
	return context.WithValue(ctx, markKey{}, mark)
}

// markDialer makes d set the query's socket mark (conntrack), if it has one,
// after d's own Control.
func markDialer(ctx context.Context, d *net.Dialer) *net.Dialer {
	mark, _ := ctx.Value(markKey{}).(uint32)
	if mark == 0 {
		return d
	}
	prev := d.Control
	d.Control = func(network, address string, c syscall.RawConn) error {
		if prev != nil {
			if err := prev(network, address, c); err != nil {
				return err
			}
		}
		return netutil.SetMark(c, mark)
	}
	return d
}

type acceptKey struct{}

// WithAccept returns a context under which the forwarder takes only the
// replies accept approves (over UDP it keeps listening for another).
func WithAccept(ctx context.Context, accept func(*dns.Msg) bool) context.Context {
	return context.WithValue(ctx, acceptKey{}, accept)
}

func acceptOf(ctx context.Context) func(*dns.Msg) bool {
	f, _ := ctx.Value(acceptKey{}).(func(*dns.Msg) bool)
	return f
}

type sentKey struct{}

// WithSent returns a context under which the exchange calls sent once its
// UDP query has left.
func WithSent(ctx context.Context, sent func()) context.Context {
	return context.WithValue(ctx, sentKey{}, sent)
}

// sentOf is the function to call once a query has left (a no-op when
// nobody asked).
func sentOf(ctx context.Context) func() {
	if f, _ := ctx.Value(sentKey{}).(func()); f != nil {
		return f
	}
	return func() {}
}
