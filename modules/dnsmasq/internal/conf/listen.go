package conf

// The parse functions of the options that say where to listen (see table.go).

import (
	"fmt"
	"strings"
)

// optListenAddress parses listen-address.
func optListenAddress(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	for _, a := range strings.Split(o.val, ",") {
		ip, err := ParseAddr(a)
		if err != nil {
			return fmt.Errorf("bad address in --listen-address: %q", a)
		}
		c.ListenAddrs = append(c.ListenAddrs, ip.String())
	}
	return nil
}

// optInterfaces parses interface, except-interface.
func optInterfaces(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	for _, n := range strings.Split(o.val, ",") {
		if n == "" {
			return badArg(o.name)
		}
		if o.name == "interface" {
			c.Interfaces = append(c.Interfaces, n)
		} else {
			c.ExceptIfaces = append(c.ExceptIfaces, n)
		}
	}
	return nil
}

// optLocalService parses local-service.
func optLocalService(p *parser, o arg) error {
	c := p.c
	if o.has && o.val != "net" && o.val != "host" {
		return badArg(o.name)
	}
	c.LocalService = "net"
	if o.has {
		c.LocalService = o.val
	}
	return nil
}
