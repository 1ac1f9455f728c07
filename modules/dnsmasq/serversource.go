package dnsmasq

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// checkSource reports why u cannot be used: its @source address is not
// one of this machine's, or its @interface does not exist. dnsmasq logs
// such a server and ignores it.
func checkSource(u conf.Upstream) error {
	if u.Iface != "" {
		if _, err := net.InterfaceByName(u.Iface); err != nil {
			return fmt.Errorf("interface %s: %w", u.Iface, err)
		}
	}
	if u.Source.IsValid() {
		c, err := net.ListenPacket("udp", netip.AddrPortFrom(u.Source.Addr(), 0).String())
		if err != nil {
			return fmt.Errorf("failed to bind server socket to %s: %w", u.Source.Addr(), unwrapSyscall(err))
		}
		_ = c.Close()
	}
	return nil
}

func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// dropUnusableSources removes the servers whose @source address or
// @interface cannot be used, logging each, as dnsmasq does.
func dropUnusableSources(c *conf.Config, log *zap.Logger) {
	keep := func(u conf.Upstream) bool {
		if err := checkSource(u); err != nil {
			log.Error("ignoring upstream server", zap.String("server", u.Addr), zap.Error(err))
			return false
		}
		return true
	}
	var servers []conf.Upstream
	for _, u := range c.Servers {
		if keep(u) {
			servers = append(servers, u)
		} else {
			c.UnusableDefaults = true
		}
	}
	c.Servers = servers
	for i, r := range c.Rules {
		if len(r.Servers) > 0 && !keep(r.Servers[0]) {
			// The domain keeps its rule without a server: REFUSED.
			c.Rules[i].Servers, c.Rules[i].Ignored = nil, true
		}
	}
}

// acquireSourcePorts opens the shared sockets of the servers with a fixed
// source port (server=...@addr#port): dnsmasq sends all their queries from
// that one socket.
func (a *App) acquireSourcePorts() error {
	f := a.resolver.fwd
	add := func(u conf.Upstream) error {
		if !u.Source.IsValid() || u.Source.Port() == 0 || f.SourcePorts[u] != nil {
			return nil
		}
		sp, err := exchange.AcquireSourcePort(u)
		if err != nil {
			return fmt.Errorf("server %s@%s: %w", u.Addr, u.Source, err)
		}
		if f.SourcePorts == nil {
			f.SourcePorts = map[conf.Upstream]*exchange.SharedPort{}
		}
		f.SourcePorts[u] = sp
		return nil
	}
	for _, u := range a.resolver.defaults {
		if err := add(u); err != nil {
			return err
		}
	}
	for _, r := range a.cfg.Rules {
		for _, u := range r.Servers {
			if err := add(u); err != nil {
				return err
			}
		}
	}
	return nil
}
