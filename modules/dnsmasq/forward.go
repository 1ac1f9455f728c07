package dnsmasq

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// forwarder sends queries to upstream servers: it picks which servers of
// a group to ask and in which order (strict-order, all-servers, else
// dnsmasq's server choice) and fails over; its exchange.Client asks each
// one.
type forwarder struct {
	exchange.Client
	strict  bool          // strict-order: always in configured order
	all     bool          // all-servers: ask every server at once
	choices sync.Map      // *Upstream (a group's first server) → *serverChoice (default mode)
	slots   chan struct{} // dns-forward-max
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

// usable reports whether a reply ends the search for an answer.
func usable(r *dns.Msg) bool {
	return r.Rcode != dns.RcodeServerFailure && r.Rcode != dns.RcodeRefused
}

// exchange forwards q to servers and returns the first usable reply (or the
// last unusable one), failing over in order on errors. Over UDP, every
// server is asked at once with all-servers and, in the default mode, when
// the group's serverChoice says so; over TCP dnsmasq asks one at a time
// (forward.c tcp_request), from the one that answered last.
func (f *forwarder) exchange(ctx context.Context, q *dns.Msg, servers []conf.Upstream, tcp bool) (*dns.Msg, conf.Upstream, error) {
	if len(servers) == 0 {
		return nil, conf.Upstream{}, errNoUpstream
	}
	if f.strict && !f.all || f.strict && tcp {
		return f.exchangeFrom(ctx, q, servers, 0, tcp, nil)
	}
	choice := f.choiceOf(servers)
	if tcp {
		return f.exchangeFrom(ctx, q, servers, max(0, int(choice.last.Load())), tcp, choice)
	}
	all, start := choice.next(time.Now())
	if (all || f.all) && len(servers) > 1 {
		r, u, err := f.exchangeAll(ctx, q, servers, tcp)
		if err == nil {
			choice.answered(servers, u, r.Rcode == dns.RcodeRefused)
		}
		return r, u, err
	}
	return f.exchangeFrom(ctx, q, servers, start%len(servers), tcp, choice)
}

// exchangeFrom asks the servers one at a time from start on, until one
// gives a usable reply; choice (nil in strict-order mode) learns who
// answered.
func (f *forwarder) exchangeFrom(ctx context.Context, q *dns.Msg, servers []conf.Upstream, start int, tcp bool, choice *serverChoice) (*dns.Msg, conf.Upstream, error) {
	var last *dns.Msg
	var lastU conf.Upstream
	err := errNoUpstream
	for i := range servers {
		u := servers[(start+i)%len(servers)]
		r, e := f.Client.Exchange(ctx, q, u, tcp)
		if e != nil {
			err = e
			continue
		}
		if choice != nil {
			// Over TCP dnsmasq's choice is the server it connected to.
			choice.answered(servers, u, !tcp && r.Rcode == dns.RcodeRefused)
		}
		if usable(r) {
			return r, u, nil
		}
		last, lastU = r, u
	}
	if last != nil && len(servers) == 1 {
		// dnsmasq asks a lone server a second time after SERVFAIL or
		// REFUSED (measured on 2.90).
		if r, e := f.Client.Exchange(ctx, q, servers[0], tcp); e == nil {
			return r, servers[0], nil
		}
	}
	if last != nil {
		return last, lastU, nil
	}
	return nil, conf.Upstream{}, err
}

// exchangeAll asks every server at once and returns the first usable
// reply (or the last unusable one). Like dnsmasq, which sends to all before
// it reads any reply, it stops the others only once each has sent its query.
func (f *forwarder) exchangeAll(ctx context.Context, q *dns.Msg, servers []conf.Upstream, tcp bool) (*dns.Msg, conf.Upstream, error) {
	ctx, cancel := context.WithCancel(ctx)
	var sent sync.WaitGroup // one per server: its query sent, or its exchange over
	defer func() {
		sent.Wait()
		cancel()
	}()
	type res struct {
		r *dns.Msg
		u conf.Upstream
		e error
	}
	ch := make(chan res, len(servers)) // buffered: no goroutine is left blocked
	for _, i := range rand.Perm(len(servers)) {
		u := servers[i]
		sent.Add(1)
		done := sync.OnceFunc(sent.Done)
		go func() {
			r, e := f.Client.Exchange(exchange.WithSent(ctx, done), q, u, tcp)
			done()
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
	return nil, conf.Upstream{}, err
}
