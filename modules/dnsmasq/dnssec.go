package dnsmasq

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNSSECConfig holds the DNSSEC options of a configuration.
type DNSSECConfig struct {
	Validate        bool      // dnssec: validate forwarded answers
	Proxy           bool      // proxy-dnssec: copy the upstream's AD bit
	Anchors         []*dns.DS // trust-anchor=
	NoCheckUnsigned bool      // dnssec-check-unsigned=no: parsed; dnsmasq 2.90 validates unsigned answers the same way with it (measured)
	NoTimecheck     bool      // dnssec-no-timecheck: signature validity periods are not checked
	Timestamp       string    // dnssec-timestamp=: time checks start once the clock passes this file's mtime
	Debug           bool      // dnssec-debug: CD upstream, bogus answers passed on
	Limits          [4]int    // dnssec-limits: sig fails per RRset, crypto ops, sub-queries, NSEC3 iterations
}

// defaultDNSSECLimits are dnsmasq 2.90's dnssec-limits defaults.
var defaultDNSSECLimits = [4]int{20, 200, 40, 150}

// dnssecOption parses the DNSSEC options; handled is false for any other
// option.
func (p *parser) dnssecOption(name, val string, hasVal bool) (handled bool, err error) {
	d := &p.c.DNSSEC
	noVal := func() error {
		if hasVal {
			return fmt.Errorf("--%s takes no argument", name)
		}
		return nil
	}
	switch name {
	case "dnssec":
		d.Validate = true
		return true, noVal()
	case "proxy-dnssec":
		d.Proxy = true
		return true, noVal()
	case "dnssec-no-timecheck":
		d.NoTimecheck = true
		return true, noVal()
	case "dnssec-debug":
		d.Debug = true
		return true, noVal()
	case "dnssec-check-unsigned":
		switch {
		case !hasVal:
			d.NoCheckUnsigned = false
		case val == "no":
			d.NoCheckUnsigned = true
		default:
			return true, errors.New("bad value for dnssec-check-unsigned")
		}
		return true, nil
	case "dnssec-timestamp":
		if !hasVal || val == "" {
			return true, fmt.Errorf("missing argument to --%s", name)
		}
		d.Timestamp = val
		return true, nil
	case "dnssec-limits":
		// Up to four numbers; empty fields keep the default, more fields are
		// ignored (as dnsmasq 2.90 does).
		for i, f := range strings.Split(val, ",") {
			if f == "" || !hasVal {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 0 {
				return true, fmt.Errorf("bad number in --dnssec-limits: %q", f)
			}
			if i < len(d.Limits) {
				d.Limits[i] = n
			}
		}
		return true, nil
	case "trust-anchor":
		ds, err := parseTrustAnchor(val)
		if err != nil {
			return true, err
		}
		d.Anchors = append(d.Anchors, ds)
		return true, nil
	}
	return false, nil
}

// parseTrustAnchor reads <domain>,<key-tag>,<algorithm>,<digest-type>,<digest>.
// dnsmasq 2.90 rejects the form with a class in front (measured), and so
// does Frontdesk.
func parseTrustAnchor(val string) (*dns.DS, error) {
	bad := errors.New("bad trust anchor")
	f := strings.Split(val, ",")
	if len(f) != 5 {
		return nil, bad
	}
	name := strings.TrimSpace(f[0])
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return nil, bad
	}
	tag, err1 := strconv.ParseUint(strings.TrimSpace(f[1]), 10, 16)
	alg, err2 := strconv.ParseUint(strings.TrimSpace(f[2]), 10, 8)
	dt, err3 := strconv.ParseUint(strings.TrimSpace(f[3]), 10, 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, bad
	}
	digest := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(f[4]), " ", ""))
	if digest == "" {
		return nil, bad
	}
	for _, ch := range digest {
		if !strings.ContainsRune("0123456789ABCDEF", ch) {
			return nil, errors.New("bad HEX in trust anchor")
		}
	}
	return &dns.DS{Hdr: dns.RR_Header{Name: dns.Fqdn(strings.ToLower(name)), Rrtype: dns.TypeDS, Class: dns.ClassINET},
		KeyTag: uint16(tag), Algorithm: uint8(alg), DigestType: uint8(dt), Digest: digest}, nil
}

// check reports the errors dnsmasq gives at start-up (measured on 2.90).
func (d *DNSSECConfig) check(cacheSize int) error {
	if !d.Validate {
		return nil
	}
	root := false
	for _, a := range d.Anchors {
		root = root || a.Hdr.Name == "."
	}
	if !root {
		return errors.New("no root trust anchor provided for DNSSEC")
	}
	if cacheSize < 150 {
		return errors.New("cannot reduce cache size from default when DNSSEC enabled")
	}
	return nil
}

// timeChecks reports whether signature validity periods are checked now:
// not with dnssec-no-timecheck, nor with dnssec-timestamp while the clock is
// before the file's modification time. With dnssec-timestamp, a missing
// file is created and a file in the past is moved to now, as dnsmasq does,
// so that a later start with a clock gone backwards does not trust it.
func (d *DNSSECConfig) timeChecks(now time.Time) bool {
	if d.NoTimecheck {
		return false
	}
	if d.Timestamp == "" {
		return true
	}
	st, err := os.Stat(d.Timestamp)
	if err != nil {
		if f, err := os.Create(d.Timestamp); err == nil {
			f.Close()
		}
		return true
	}
	if now.Before(st.ModTime()) {
		return false
	}
	_ = os.Chtimes(d.Timestamp, now, now)
	return true
}

// isDNSSECType reports whether t is a record type that only DNSSEC-aware
// clients get (RRSIG, NSEC, NSEC3).
func isDNSSECType(t uint16) bool {
	return t == dns.TypeRRSIG || t == dns.TypeNSEC || t == dns.TypeNSEC3
}

// stripDNSSEC returns rrs without RRSIG, NSEC and NSEC3 records (other than
// of qtype, when the client asked for that type).
func stripDNSSEC(rrs []dns.RR, qtype uint16) []dns.RR {
	n := 0
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; isDNSSECType(t) && t != qtype {
			n++
		}
	}
	if n == 0 {
		return rrs
	}
	out := make([]dns.RR, 0, len(rrs)-n)
	for _, rr := range rrs {
		if t := rr.Header().Rrtype; !isDNSSECType(t) || t == qtype {
			out = append(out, rr)
		}
	}
	return out
}

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
func (r *Resolver) dnssecFlags(m, req *dns.Msg, a answer, do bool) {
	switch {
	case r.cfg.DNSSEC.Validate:
		m.AuthenticatedData = a.secure && (do || req.AuthenticatedData) && !req.CheckingDisabled
		if !do {
			qtype := req.Question[0].Qtype
			m.Answer, m.Ns, m.Extra = stripDNSSEC(m.Answer, qtype), stripDNSSEC(m.Ns, qtype), stripDNSSEC(m.Extra, qtype)
		}
	case r.cfg.DNSSEC.Proxy:
		m.AuthenticatedData = a.ad && a.source != "cache" && a.source != "local"
	}
}

// cacheUsable reports whether a cached answer with DNSSEC status st may
// answer req. A client that set DO is answered from the cache only with
// dnssec and an answer that is insecure: a secure one is forwarded again for
// its RRSIGs; without dnssec, never (measured on 2.90). With dnssec, CD
// queries and answers cached before validation was on go upstream.
func (r *Resolver) cacheUsable(req *dns.Msg, st cacheDNSSEC, validate bool) bool {
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
func (r *Resolver) serversFor(name string) []Upstream {
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
func (r *Resolver) dnssecDomain(domain string) bool {
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
