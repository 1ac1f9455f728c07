package dnsmasq

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/netutil"
)

// listeners are the UDP and TCP sockets of each listen address, shared by
// every config that uses them: on reload the new config takes over the same
// sockets before the old one lets go, so no query is dropped.
var listeners = caddy.NewUsagePool()

// sharedServer is one listen address served over UDP and TCP.
type sharedServer struct {
	h   *handler
	udp *udpServer
	tcp *dns.Server
}

// Destruct stops serving; it runs when the last config using it stops.
func (s *sharedServer) Destruct() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err1 := s.udp.shutdown(ctx)
	err2 := s.tcp.ShutdownContext(ctx)
	if err1 != nil {
		return err1
	}
	return err2
}

func listenShared(addr string) (*sharedServer, error) {
	v, _, err := listeners.LoadOrNew(addr, func() (caddy.Destructor, error) {
		var lc net.ListenConfig
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return nil, fmt.Errorf("listening on udp/%s: %w", addr, err)
		}
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			pc.Close()
			return nil, fmt.Errorf("listening on tcp/%s: %w", addr, err)
		}
		h := &handler{}
		udp, err := newUDPServer(pc, h)
		if err != nil {
			pc.Close()
			ln.Close()
			return nil, fmt.Errorf("serving udp/%s: %w", addr, err)
		}
		s := &sharedServer{
			h:   h,
			udp: udp,
			tcp: &dns.Server{Listener: netutil.NewLimitListener(ln, h.maxTCP), Handler: h, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }},
		}
		started := make(chan struct{}, 1)
		s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() { _ = s.tcp.ActivateAndServe() }()
		<-started
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*sharedServer), nil
}
