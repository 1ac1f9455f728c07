package dnsmasq

import (
	"testing"

	"github.com/miekg/dns"
)

// TestRROrderRotates plays dnsmasq's generic lookup for a name with an
// NXDOMAIN and, cached after it, a NODATA for SRV: each lookup returns the
// last record in chain order and rotates the chain (measured on dnsmasq
// 2.90 by the dnsdiff run: the TXT question after an SRV NODATA is
// forwarded, the next one through a CNAME answered NXDOMAIN).
func TestRROrderRotates(t *testing.T) {
	c := newCache(100)
	n := "a.lan."
	c.put(cacheKey{n, 0}, dns.RcodeNameError, nil, nil, 60)
	if _, _, applies := c.rrOrder(n, dns.TypeTXT); applies {
		t.Fatal("an NXDOMAIN alone: the plain lookup stands")
	}
	c.put(cacheKey{n, dns.TypeSRV}, dns.RcodeSuccess, nil, nil, 60)
	for i, step := range []struct {
		qtype uint16
		want  uint16 // the key's type; 1 for "forwarded"
	}{
		{dns.TypeTXT, 1},           // [NX SRV]: SRV first, the look back stops at the NXDOMAIN
		{dns.TypeTXT, 0},           // [SRV NX]: the NXDOMAIN first
		{dns.TypeSRV, dns.TypeSRV}, // [NX SRV]
		{dns.TypeSRV, 0},           // [SRV NX]: the NXDOMAIN even for SRV
		{dns.TypeHTTPS, 1},         // [NX SRV]
		{dns.TypeANY, 0},           // [SRV NX]
	} {
		k, ok, applies := c.rrOrder(n, step.qtype)
		got := uint16(1)
		if ok {
			got = k.qtype
		}
		if !applies || got != step.want {
			t.Fatalf("lookup %d (%s): applies %v, key type %d, want %d", i+1, dns.TypeToString[step.qtype], applies, got, step.want)
		}
	}
	// A record inserted again goes last: [SRV NX] becomes [NX SRV].
	c.put(cacheKey{n, dns.TypeSRV}, dns.RcodeSuccess, nil, nil, 60)
	if k, ok, _ := c.rrOrder(n, dns.TypeSRV); !ok || k.qtype != dns.TypeSRV {
		t.Errorf("after the SRV answer is cached again: %v %v, want the SRV answer", k, ok)
	}
	// Entries that leave the cache leave the order.
	c.SetSize(0)
	if len(c.order) != 0 {
		t.Errorf("order after every entry was evicted: %v", c.order)
	}
}

// TestRROrderSkipsChainsAndAddresses: an answer through a CNAME, and the
// address, CNAME, PTR and SOA answers, are not F_RR records of the name.
func TestRROrderSkipsChainsAndAddresses(t *testing.T) {
	n := "x.test."
	chain := []dns.RR{&dns.CNAME{Hdr: dns.RR_Header{Name: "X.test.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET}, Target: "y.test."}}
	for _, c := range []struct {
		k      cacheKey
		answer []dns.RR
		want   bool
	}{
		{cacheKey{n, 0}, nil, true},
		{cacheKey{n, dns.TypeSRV}, nil, true},
		{cacheKey{n, dns.TypeTXT}, nil, true},
		{cacheKey{n, dns.TypeSRV}, chain, false},
		{cacheKey{n, dns.TypeA}, nil, false},
		{cacheKey{n, dns.TypeCNAME}, nil, false},
		{cacheKey{n, dns.TypeSOA}, nil, false},
	} {
		if got := inRROrder(c.k, c.answer); got != c.want {
			t.Errorf("inRROrder(%v, %d records) = %v, want %v", c.k, len(c.answer), got, c.want)
		}
	}
}
