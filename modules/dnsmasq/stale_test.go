package dnsmasq

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestCacheStale(t *testing.T) {
	c := newCache(10)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	a := &dns.A{Hdr: dns.RR_Header{Name: "a.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 2}}
	c.put(cacheKey{"a.test.", dns.TypeA}, dns.RcodeSuccess, []dns.RR{a}, nil, 2)
	c.put(cacheKey{"n.test.", 0}, dns.RcodeNameError, nil, nil, 2)
	now = now.Add(5 * time.Second)
	if _, _, _, _, _, ok := c.lookup("a.test.", dns.TypeA, false, 2*time.Second); ok {
		t.Error("served 3 s after expiry with a limit of 2 s")
	}
	c.put(cacheKey{"a.test.", dns.TypeA}, dns.RcodeSuccess, []dns.RR{a}, nil, 2)
	now = now.Add(3 * time.Second)
	_, ans, _, stale, _, ok := c.lookup("a.test.", dns.TypeA, false, 2*time.Second)
	if !ok || !stale || len(ans) != 1 || ans[0].Header().Ttl != 0 {
		t.Errorf("stale lookup: %v %v %v", ans, stale, ok)
	}
	if _, _, _, _, _, ok := c.lookup("a.test.", dns.TypeA, false, 0); !ok {
		t.Error("no limit: not served")
	}
	// Negative answers are served stale too (cache.c is_expired).
	if rcode, _, _, stale, _, ok := c.lookup("n.test.", dns.TypeA, false, 0); !ok || !stale || rcode != dns.RcodeNameError {
		t.Errorf("stale NXDOMAIN: rcode %d, stale %v, found %v", rcode, stale, ok)
	}
	if _, _, _, ok := c.get("n.test.", dns.TypeA, false); ok {
		t.Error("get served a stale NXDOMAIN")
	}
	if _, _, _, ok := c.get("a.test.", dns.TypeA, false); ok {
		t.Error("get served a stale answer")
	}
	if c.Len() != 0 {
		t.Errorf("expired entries left: %d", c.Len())
	}
	if cfg, err := ParseLines([]Line{{Text: "use-stale-cache"}}); err != nil || !cfg.UseStale || cfg.StaleMax != 86400 {
		t.Errorf("use-stale-cache: %+v %v", cfg, err)
	}
	if cfg, err := ParseLines([]Line{{Text: "use-stale-cache=0"}}); err != nil || cfg.StaleMax != 0 {
		t.Errorf("use-stale-cache=0: %v", err)
	}
	if _, err := ParseLines([]Line{{Text: "use-stale-cache=x"}}); err == nil {
		t.Error("use-stale-cache=x accepted")
	}
}
