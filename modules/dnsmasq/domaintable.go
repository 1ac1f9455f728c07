package dnsmasq

import (
	"net/netip"

	"github.com/miekg/dns"
)

// addressAnswer is the answer the address= lines of rs give a class IN
// question of qtype, owned by owner, or nil when they give none (the other
// rules of the domain then apply). dnsmasq sorts the lines of one domain
// as IPv6 addresses, IPv4 addresses, # (the null addresses), server=/d/#,
// upstream servers, then the lines without an address (address=/d/,
// local=/d/, server=/d/), and answers from the first group that fits the
// question (domain-match.c filter_servers and order_qsort): AAAA gets the
// IPv6 addresses, A the IPv4 ones, ANY the IPv6 ones when the domain has
// any, else the IPv4 ones; # answers only when the domain has no address
// of a wanted family, with 0.0.0.0 and/or :: (make_local_answer).
func (rs *ruleSet) addressAnswer(owner string, qtype uint16, ttl uint32) []dns.RR {
	want4 := qtype == dns.TypeA || qtype == dns.TypeANY
	want6 := qtype == dns.TypeAAAA || qtype == dns.TypeANY
	if !want4 && !want6 {
		return nil
	}
	n4, n6 := rs.families()
	switch {
	case want6 && n6 > 0:
		return rs.addressRRs(owner, dns.TypeAAAA, n6, ttl)
	case want4 && n4 > 0:
		return rs.addressRRs(owner, dns.TypeA, n4, ttl)
	case !rs.null:
		return nil
	}
	var out []dns.RR
	for range rs.nulls { // one answer per line, repeats included
		if want4 {
			out = append(out, ipRR(owner, netip.IPv4Unspecified(), ipv4Unspecified, ttl))
		}
	}
	for range rs.nulls {
		if want6 {
			out = append(out, ipRR(owner, netip.IPv6Unspecified(), ipv6Unspecified, ttl))
		}
	}
	return out
}

// families counts the IPv4 and IPv6 addresses of rs.
func (rs *ruleSet) families() (n4, n6 int) {
	for _, a := range rs.addrs {
		if a.Is4() {
			n4++
		} else {
			n6++
		}
	}
	return n4, n6
}

// addressRRs are the n addresses of type t (A or AAAA) of rs.
func (rs *ruleSet) addressRRs(owner string, t uint16, n int, ttl uint32) []dns.RR {
	out := make([]dns.RR, 0, n)
	for i, a := range rs.addrs {
		if typeOf(a) == t {
			if n == 1 {
				// The common case, address=/domain/ip: one allocation.
				return oneRR(owner, a, rs.ips[i], ttl)
			}
			out = append(out, ipRR(owner, a, rs.ips[i], ttl))
		}
	}
	return out
}
