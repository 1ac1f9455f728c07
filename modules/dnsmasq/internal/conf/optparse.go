package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// arg is an option as written: its name, its value after the '=', and
// whether there was a '='.
type arg struct {
	name, val string
	has       bool
}

// needVal refuses a missing or empty value.
func (o arg) needVal() error {
	if !o.has || o.val == "" {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	return nil
}

// noVal refuses a value: the option is a flag.
func (o arg) noVal() error {
	if o.has {
		return fmt.Errorf("--%s takes no argument", o.name)
	}
	return nil
}

// u32 reads a TTL like dnsmasq's atoi_check: digits only, the empty
// value is 0, and the C int is kept as the 32 bits sent on the wire.
func (o arg) u32(dst *uint32) error {
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	n, ok := atoiCheck(o.val)
	if !ok {
		return badArg(o.name)
	}
	*dst = uint32(n)
	return nil
}

// flag is the parse function of a flag: set turns it on; a value is refused.
func flag(set func(c *Config)) parseFunc {
	return func(p *parser, o arg) error {
		set(p.c)
		return o.noVal()
	}
}

// intIn is the parse function of an option with one decimal value from
// lo to hi (strconv.Atoi's syntax); set stores it.
func intIn(lo, hi int, set func(c *Config, n int)) parseFunc {
	return func(p *parser, o arg) error {
		if err := o.needVal(); err != nil {
			return err
		}
		n, err := strconv.Atoi(o.val)
		if err != nil || n < lo || n > hi {
			return badArg(o.name)
		}
		set(p.c, n)
		return nil
	}
}

// accept is the parse function of an option accepted and ignored.
func accept(*parser, arg) error { return nil }

// optLogQueries parses log-queries.
func optLogQueries(p *parser, o arg) error {
	c := p.c
	// log-queries=extra and =proto only add detail to the log line.
	if o.has && o.val != "extra" && o.val != "proto" {
		return badArg(o.name)
	}
	c.LogQueries = true
	return nil
}

// optFilterA parses filter-A.
func optFilterA(p *parser, o arg) error {
	c := p.c
	c.FilterRR = append(c.FilterRR, dns.TypeA)
	return o.noVal()
}

// optFilterAAAA parses filter-AAAA.
func optFilterAAAA(p *parser, o arg) error {
	c := p.c
	c.FilterRR = append(c.FilterRR, dns.TypeAAAA)
	return o.noVal()
}

// optRRTypes parses filter-rr, cache-rr.
func optRRTypes(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	for _, f := range splitArgs(o.val, -1) {
		t, ok := parseType(f)
		if n, num := atoiCheck(f); num {
			// A number, the empty field too (type 0); one above
			// 65535 names no type and matches nothing.
			if n < 0 || n > 65535 {
				continue
			}
			t, ok = uint16(n), true
		}
		if !ok {
			return fmt.Errorf("bad RR type in --%s: %q", o.name, f)
		}
		switch {
		case o.name == "filter-rr" && t == dns.TypeANY:
			c.FilterANY = true
		case o.name == "filter-rr":
			c.FilterRR = append(c.FilterRR, t)
		default:
			c.CacheRR = append(c.CacheRR, t)
		}
	}
	return nil
}

// optUseStaleCache parses use-stale-cache.
func optUseStaleCache(p *parser, o arg) error {
	c := p.c
	c.UseStale, c.StaleMax = true, 86400 // dnsmasq's default: one day
	if o.has && o.val != "" {
		n, err := strconv.ParseUint(o.val, 10, 32)
		if err != nil {
			return badArg(o.name)
		}
		c.StaleMax = uint32(n)
	}
	return nil
}

// optIgnoreAddress parses ignore-address.
func optIgnoreAddress(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	pfx, err := parsePrefix(o.val)
	if err != nil {
		return errors.New("bad address in --ignore-address")
	}
	c.IgnoreAddrs = append(c.IgnoreAddrs, pfx)
	return nil
}

// optLocalTTL parses local-ttl.
func optLocalTTL(p *parser, o arg) error {
	c := p.c
	return o.u32(&c.LocalTTL)
}

// optNegTTL parses neg-ttl.
func optNegTTL(p *parser, o arg) error {
	c := p.c
	return o.u32(&c.NegTTL)
}

// optMaxTTL parses max-ttl.
func optMaxTTL(p *parser, o arg) error {
	c := p.c
	// 0 is no limit, dnsmasq's default (rfc1035.c crec_ttl and
	// extract_addresses test daemon->max_ttl != 0).
	err := o.u32(&c.MaxTTL)
	c.HasMaxTTL = c.MaxTTL != 0
	return err
}

// optMaxCacheTTL parses max-cache-ttl.
func optMaxCacheTTL(p *parser, o arg) error {
	c := p.c
	// 0 is no limit (cache.c cache_insert).
	err := o.u32(&c.MaxCacheTTL)
	c.HasMaxCacheTTL = c.MaxCacheTTL != 0
	return err
}

// optMinCacheTTL parses min-cache-ttl.
func optMinCacheTTL(p *parser, o arg) error {
	c := p.c
	if err := o.u32(&c.MinCacheTTL); err != nil {
		return err
	}
	if c.MinCacheTTL > 3600 { // dnsmasq caps it at one hour
		c.MinCacheTTL = 3600
	}
	return nil
}

// optCacheSize parses cache-size.
func optCacheSize(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	n, ok := atoiCheck(o.val) // the empty value is 0: no cache
	if !ok {
		return badArg(o.name)
	}
	c.CacheSize = min(max(int(n), 0), MaxCacheSize)
	return nil
}

// optListenAddress parses listen-address.
func optListenAddress(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	for _, a := range strings.Split(o.val, ",") {
		ip, err := netip.ParseAddr(a)
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

// optAddnHosts parses addn-hosts.
func optAddnHosts(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	if o.val != "" { // dnsmasq: an empty o.name loads nothing
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

// optResolvFile parses resolv-file.
func optResolvFile(p *parser, o arg) error {
	c := p.c
	if !o.has || o.val == "" {
		c.NoResolv = true // dnsmasq: an empty resolv-file means none
		return nil
	}
	c.ResolvFiles = append(c.ResolvFiles, o.val)
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

// optDumpFile parses dumpfile.
func optDumpFile(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	c.DumpFile = o.val
	return nil
}

// optDumpMask parses dumpmask.
func optDumpMask(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	n, err := strconv.ParseUint(o.val, 0, 32)
	if err != nil {
		return badArg(o.name)
	}
	c.DumpMask = uint32(n)
	return nil
}

// optBogusNXDomain parses bogus-nxdomain.
func optBogusNXDomain(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	pfx, err := parsePrefix(o.val)
	if err != nil {
		return errors.New("bad address in --bogus-nxdomain")
	}
	c.BogusNX = append(c.BogusNX, pfx)
	return nil
}
