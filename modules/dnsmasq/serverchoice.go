package dnsmasq

import (
	"sync/atomic"
	"time"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// dnsmasq's cadence of asking every server of a group at once (config.h).
const (
	forwardTest = 50               // FORWARD_TEST: after this many queries sent to one server
	forwardTime = 20 * time.Second // FORWARD_TIME: or after this long
)

// serverChoice is dnsmasq's choice among the servers of one group (the
// servers of a server=/domain/ or the default servers) in its default mode,
// neither strict-order nor all-servers (forward.c forward_query and
// reply_query). A query goes to every server of the group at once when no
// server has answered yet, when more than forwardTest queries went to one
// since, after forwardTime, and after the chosen server answered REFUSED;
// else to the server that answered last. dnsmasq keeps this on the group's
// first server (serverarray[first]); so does the forwarder (choices).
type serverChoice struct {
	last  atomic.Int64 // index of the server that answered last; -1: none
	count atomic.Int64 // queries sent to one server since all were asked
	since atomic.Int64 // when all were last asked (unix nanoseconds)
}

// choiceOf is the choice state of the group servers (not empty), made on
// first use. The slices of groups live as long as the configuration (the
// loop detector makes a new one when a server's state changes, and with it
// a new choice, as dnsmasq's build_server_array resets last_server).
func (f *forwarder) choiceOf(servers []conf.Upstream) *serverChoice {
	key := &servers[0]
	if c, ok := f.choices.Load(key); ok {
		return c.(*serverChoice)
	}
	c := &serverChoice{}
	c.last.Store(-1)
	actual, _ := f.choices.LoadOrStore(key, c)
	return actual.(*serverChoice)
}

// next says whether this query goes to every server, and if not which
// server it goes to first.
func (c *serverChoice) next(now time.Time) (all bool, start int) {
	last := c.last.Load()
	sent := c.count.Add(1) - 1 // dnsmasq: forwardcount++ > FORWARD_TEST
	if last < 0 || sent > forwardTest || now.UnixNano()-c.since.Load() > int64(forwardTime) {
		c.since.Store(now.UnixNano())
		c.count.Store(0)
		return true, 0
	}
	return false, int(last)
}

// answered records a reply of server u: it becomes the group's choice
// unless it REFUSED, which clears the choice if it was the chosen one.
// Like dnsmasq, which knows a reply's server by its address, the index is
// that of the first server of the group with u's address.
func (c *serverChoice) answered(servers []conf.Upstream, u conf.Upstream, refused bool) {
	idx := -1
	for i, s := range servers {
		if s.Addr == u.Addr {
			idx = i
			break
		}
	}
	if idx < 0 {
		return
	}
	if !refused {
		c.last.Store(int64(idx))
	} else {
		c.last.CompareAndSwap(int64(idx), -1)
	}
}
