package conf

// The parse functions of the cache and TTL options (see table.go).

import (
	"fmt"
	"strconv"
)

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
