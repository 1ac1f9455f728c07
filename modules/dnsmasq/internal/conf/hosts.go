package conf

// The parse functions of the hosts-file and local-domain options (see table.go).

import (
	"fmt"
)

// optAddnHosts parses addn-hosts.
func optAddnHosts(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	if o.val != "" { // dnsmasq: an empty name loads nothing
		c.AddnHosts = append(c.AddnHosts, o.val)
	}
	return nil
}

// optHostsDir parses hostsdir.
func optHostsDir(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	c.HostsDirs = append(c.HostsDirs, o.val)
	return nil
}

// optDomain parses domain.
func optDomain(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	f := splitArgs(o.val, 2)
	d, ok := ownerName(f[0])
	if !ok {
		return badArg(o.name)
	}
	if len(f) == 2 {
		return p.parseDomainRange(d, f[1])
	}
	c.Domain = d // the empty domain is no domain
	return nil
}
