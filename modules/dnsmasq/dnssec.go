package dnsmasq

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/dnssec"
)

// wantsDNSSEC reports whether a client query set the DO bit.
func wantsDNSSEC(req *dns.Msg) bool {
	opt := req.IsEdns0()
	return opt != nil && opt.Do()
}

// dnssecFlags sets the AD bit of a reply and, with dnssec, removes the
// DNSSEC records a client without DO did not ask for. With dnssec, AD marks
// a secure answer to a client that set DO or AD (and not CD); with
// proxy-dnssec, it is the upstream's bit on a forwarded answer and never set
// on a cached one (measured on 2.90).
func (r *resolver) dnssecFlags(m, req *dns.Msg, a answer, do bool) {
	switch {
	case r.cfg.DNSSEC.Validate:
		m.AuthenticatedData = a.secure && (do || req.AuthenticatedData) && !req.CheckingDisabled
		if !do {
			qtype := req.Question[0].Qtype
			m.Answer, m.Ns, m.Extra = dnssec.Strip(m.Answer, qtype), dnssec.Strip(m.Ns, qtype), dnssec.Strip(m.Extra, qtype)
		}
	case r.cfg.DNSSEC.Proxy:
		m.AuthenticatedData = a.ad && a.source != sourceCache && a.source != sourceLocal
	}
	if a.keepsAD && (do || req.AuthenticatedData) && !req.CheckingDisabled {
		m.AuthenticatedData = true
	}
}

// cacheUsable reports whether a cached answer with DNSSEC status st may
// answer req. A client that set DO is answered from the cache only with
// dnssec and an answer that is insecure: a secure one is forwarded again for
// its RRSIGs; without dnssec, never (measured on 2.90). With dnssec, CD
// queries and answers cached before validation was on go upstream.
func (r *resolver) cacheUsable(req *dns.Msg, st cacheDNSSEC, validate bool) bool {
	do := wantsDNSSEC(req)
	if !r.cfg.DNSSEC.Validate {
		return !do
	}
	if !validate {
		// A server=/domain/ without a trust anchor: its answers are
		// insecure, from the cache too (measured).
		return !req.CheckingDisabled && st != cacheUnvalidated
	}
	return !req.CheckingDisabled && st != cacheUnvalidated && !(do && st == cacheSecure)
}

// serversFor returns the upstream servers the domain table gives for name
// (a fully qualified name): DS and DNSKEY lookups go where a query for
// that name would go. It is nil for a name answered only locally.
func (r *resolver) serversFor(name string) []conf.Upstream {
	var buf [8]*ruleSet
	for _, rs := range r.store.matches(strings.TrimSuffix(strings.ToLower(name), "."), buf[:0]) {
		switch { // dnsmasq's order for one domain (see addressAnswer)
		case rs.standard:
			return r.defaults
		case len(rs.servers) > 0:
			return rs.servers
		case rs.nx || rs.local:
			return nil
		}
	}
	return r.defaults
}

// dnssecDomain reports whether the answers of a server=/domain/ server are
// validated: as in dnsmasq, only when a trust-anchor names exactly that
// domain (leading dots apart); server=// never, server=/#/ always.
func (r *resolver) dnssecDomain(domain string) bool {
	if domain == "#" {
		return true
	}
	d := strings.TrimLeft(domain, ".")
	if d == "" {
		return false
	}
	for _, a := range r.cfg.DNSSEC.Anchors {
		if strings.EqualFold(a.Hdr.Name, d+".") {
			return true
		}
	}
	return false
}
