package dnsmasq

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// loopDetector is dns-loop-detect: when a config starts, each plain
// upstream server gets a TXT query for <8 hex digits>.test, a name made up
// for that server (the shape dnsmasq 2.90 uses, measured). If such a query
// comes back to us as a client query, the server forwards to us: it is
// taken out of the servers (dnsmasq logs "NOT using nameserver ... - query
// loop detected") and the looping query is not answered.
type loopDetector struct {
	mu      sync.Mutex
	names   map[string]string // probe name (lower case, no trailing dot) -> server address
	servers atomic.Pointer[[]conf.Upstream]
}

func newLoopDetector(servers []conf.Upstream) *loopDetector {
	l := &loopDetector{names: map[string]string{}}
	l.servers.Store(&servers)
	return l
}

// current returns the servers not found looping.
func (l *loopDetector) current() []conf.Upstream { return *l.servers.Load() }

// probe sends each server its probe query, in the background.
func (l *loopDetector) probe(f *exchange.Client, log *zap.Logger) {
	for _, u := range l.current() {
		name := fmt.Sprintf("%08x.test", rand.Uint32())
		l.mu.Lock()
		l.names[name] = u.Addr
		l.mu.Unlock()
		go func() {
			q := new(dns.Msg)
			q.SetQuestion(name+".", dns.TypeTXT)
			if _, err := f.Exchange(context.Background(), q, u, false); err != nil {
				log.Debug("loop detection query failed", zap.String("server", u.Addr), zap.Error(err))
			}
		}()
	}
}

// looped reports whether a client query for name (lower case, no trailing
// dot) of type qtype is one of our probes coming back, and if so takes its
// server out.
func (l *loopDetector) looped(name string, qtype uint16, log *zap.Logger) bool {
	if qtype != dns.TypeTXT || len(name) != len("01234567.test") {
		return false
	}
	l.mu.Lock()
	addr, ok := l.names[name]
	l.mu.Unlock()
	if !ok {
		return false
	}
	for {
		old := l.servers.Load()
		var keep []conf.Upstream
		for _, u := range *old {
			if u.Addr != addr {
				keep = append(keep, u)
			}
		}
		if l.servers.CompareAndSwap(old, &keep) {
			if len(keep) != len(*old) {
				log.Warn("NOT using nameserver - query loop detected", zap.String("server", addr))
			}
			return true
		}
	}
}
