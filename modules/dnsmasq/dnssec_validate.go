package dnsmasq

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/exchange"
)

// secStatus is the DNSSEC status of an answer (RFC 4035 section 4.3); the
// order matters: the status of a whole answer is the least of its parts.
type secStatus int

const (
	secBogus secStatus = iota
	secInsecure
	secSecure
)

func (s secStatus) String() string {
	return [...]string{"bogus", "insecure", "secure"}[s]
}

// dsKind is what a DS lookup proved about a name.
type dsKind int

const (
	dsBogus       dsKind = iota
	dsPresent            // signed DS records: a secure delegation
	dsNoCut              // no DS and no delegation (or no such name): same zone as the parent
	dsInsecureCut        // an unsigned delegation, or the parent is insecure
	dsUnsigned           // an answer without signatures
)

type keyEntry struct {
	status  secStatus
	keys    []*dns.DNSKEY
	expires time.Time
}

type dsEntry struct {
	kind    dsKind
	ds      []*dns.DS
	expires time.Time
}

// validator checks forwarded answers against the trust anchors, fetching
// and caching the DS and DNSKEY records of the chain of trust from the
// upstream servers, as dnsmasq's --dnssec does.
type validator struct {
	cfg     *DNSSECConfig
	fwd     *exchange.Forwarder
	udpSize uint16                       // edns-packet-max, the size its DS and DNSKEY queries ask for
	servers func(name string) []Upstream // upstream servers for a DS/DNSKEY lookup
	limits  [len(conf.DefaultDNSSECLimits)]int
	log     *zap.Logger

	timeValid atomic.Bool // the clock was found valid: time checks stay on

	mu   sync.Mutex
	keys map[string]keyEntry // zone (lower case, fqdn) -> validated DNSKEYs
	ds   map[string]dsEntry  // name -> DS proof
}

func newValidator(cfg *DNSSECConfig, fwd *exchange.Forwarder, udpSize uint16, servers func(string) []Upstream, log *zap.Logger) *validator {
	v := &validator{cfg: cfg, fwd: fwd, udpSize: udpSize, servers: servers, log: log, keys: map[string]keyEntry{}, ds: map[string]dsEntry{}}
	for i, d := range conf.DefaultDNSSECLimits {
		v.limits[i] = d
		if cfg.Limits[i] > 0 {
			v.limits[i] = cfg.Limits[i]
		}
	}
	return v
}

// vjob is the validation of one answer: its upstream servers and its
// share of the dnssec-limits work budget.
type vjob struct {
	ctx       context.Context
	servers   []Upstream
	subq      int // sub-queries left
	crypto    int // signature checks and hashes left
	now       time.Time
	timecheck bool
	bogusKeys map[string]bool // zones whose keys failed in this job (not cached)
	reason    uint16          // extended DNS error of the first failure
}

// fail records why validation failed (the first reason is kept) and
// returns secBogus.
func (j *vjob) fail(code uint16) secStatus {
	if j.reason == 0 {
		j.reason = code
	}
	return secBogus
}

var errDNSSECLimit = errors.New("dnssec-limits exceeded")

// validate returns the status of reply, the upstream answer to q, and for
// a bogus one the extended DNS error that names the first failure (as
// dnsmasq's, measured with dnssec-debug).
func (v *validator) validate(ctx context.Context, q dns.Question, reply *dns.Msg, servers []Upstream) (secStatus, uint16) {
	now := time.Now()
	timecheck := v.timeValid.Load()
	if !timecheck && timeChecks(v.cfg, now) {
		timecheck = true
		v.timeValid.Store(true)
	}
	j := &vjob{ctx: ctx, servers: servers, subq: v.limits[conf.LimitSubqueries], crypto: v.limits[conf.LimitCrypto], now: now, timecheck: timecheck}
	st := v.validateMsg(j, q, reply)
	if st == secBogus && j.reason == 0 {
		j.reason = dns.ExtendedErrorCodeDNSBogus
	}
	if v.cfg.Debug {
		v.log.Debug("dnssec", zap.String("name", q.Name), zap.String("type", dns.TypeToString[q.Qtype]), zap.Stringer("status", st),
			zap.String("reason", dns.ExtendedErrorCodeToString[j.reason]))
	}
	return st, j.reason
}

func (v *validator) validateMsg(j *vjob, q dns.Question, reply *dns.Msg) secStatus {
	if reply.Rcode != dns.RcodeSuccess && reply.Rcode != dns.RcodeNameError {
		return secInsecure
	}
	status := secSecure
	for _, set := range rrsets(reply.Answer) {
		st := v.checkSet(j, set)
		if st == secSecure && !v.wildcardProven(j, set, reply.Ns) {
			st = j.fail(dns.ExtendedErrorCodeNSECMissing)
		}
		if st == secBogus {
			return st // no more work for a lost cause
		}
		status = min(status, st)
	}
	// Follow the CNAME chain to the name the answer ends at.
	final := strings.ToLower(q.Name)
	for i := 0; i < 16; i++ {
		next := ""
		for _, rr := range reply.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, final) {
				next = strings.ToLower(c.Target)
			}
		}
		if next == "" {
			break
		}
		final = next
	}
	positive := q.Qtype == dns.TypeCNAME || q.Qtype == dns.TypeANY
	for _, rr := range reply.Answer {
		if h := rr.Header(); strings.EqualFold(h.Name, final) && h.Rrtype == q.Qtype {
			positive = true
		}
	}
	if positive && reply.Rcode == dns.RcodeSuccess {
		return status
	}
	return min(status, v.checkDenial(j, final, q.Qtype, reply.Rcode == dns.RcodeNameError, reply.Ns))
}

// wildcardProven reports whether an RRset expanded from a wildcard (its
// RRSIG has fewer labels than its owner) comes with the proof that its
// owner itself does not exist: an NSEC covering it, or an NSEC3 covering
// the next closer name (RFC 4035 section 5.3.4, RFC 5155 section 8.8). Sets
// that are not expansions need no proof.
func (v *validator) wildcardProven(j *vjob, s *rrSet, ns []dns.RR) bool {
	owner := s.rrs[0].Header().Name
	n := dns.CountLabel(owner)
	labels := int(s.sigs[0].Labels)
	if labels >= n {
		return true
	}
	nextCloser := strings.Join(dns.SplitDomainName(owner)[n-labels-1:], ".") + "."
	for _, rr := range ns {
		switch x := rr.(type) {
		case *dns.NSEC:
			if nsecCovers(x, owner) {
				return true
			}
		case *dns.NSEC3:
			if j.crypto--; j.crypto < 0 || int(x.Iterations) > v.limits[conf.LimitNSEC3Iterations] {
				return false
			}
			if x.Cover(nextCloser) {
				return true
			}
		}
	}
	return false
}

// maxProofs bounds each of the validator's DS and DNSKEY stores.
const maxProofs = 4096

// prune keeps a store below maxProofs entries: when it is full, the expired
// entries go, and if that is not enough, all of them.
func prune[E any](m map[string]E, now time.Time, expires func(E) time.Time) {
	if len(m) < maxProofs {
		return
	}
	for k, e := range m {
		if !now.Before(expires(e)) {
			delete(m, k)
		}
	}
	if len(m) >= maxProofs {
		clear(m)
	}
}

// rrSet is one RRset of a section with the RRSIGs that cover it.
type rrSet struct {
	rrs  []dns.RR
	sigs []*dns.RRSIG
}

// rrsets groups a section into RRsets (name, class, type), RRSIGs going to
// the set they cover.
func rrsets(section []dns.RR) []*rrSet {
	type key struct {
		name  string
		class uint16
		rtype uint16
	}
	var order []key
	m := map[key]*rrSet{}
	get := func(k key) *rrSet {
		s := m[k]
		if s == nil {
			s = &rrSet{}
			m[k] = s
			order = append(order, k)
		}
		return s
	}
	for _, rr := range section {
		h := rr.Header()
		if h.Rrtype == dns.TypeOPT {
			continue
		}
		if sig, ok := rr.(*dns.RRSIG); ok {
			s := get(key{strings.ToLower(h.Name), h.Class, sig.TypeCovered})
			s.sigs = append(s.sigs, sig)
			continue
		}
		s := get(key{strings.ToLower(h.Name), h.Class, h.Rrtype})
		s.rrs = append(s.rrs, rr)
	}
	out := make([]*rrSet, 0, len(order))
	for _, k := range order {
		if s := m[k]; len(s.rrs) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// checkSet validates one RRset: with signatures, against the keys of the
// signer's zone; without, it is insecure only when its name is proven to be
// outside any signed zone.
func (v *validator) checkSet(j *vjob, s *rrSet) secStatus {
	owner := s.rrs[0].Header().Name
	if len(s.sigs) == 0 {
		return v.unsigned(j, owner)
	}
	signer := strings.ToLower(s.sigs[0].SignerName)
	if !dns.IsSubDomain(signer, owner) {
		return j.fail(dns.ExtendedErrorCodeDNSBogus)
	}
	// Like dnsmasq, first walk down from the trust anchor to the signer
	// with DS lookups (an insecure delegation on the way makes the data
	// insecure), then fetch the signer's keys.
	if st := v.nameStatus(j, signer); st != secSecure {
		return st
	}
	if j.timecheck && !slices.ContainsFunc(s.sigs, func(sig *dns.RRSIG) bool { return sig.ValidityPeriod(j.now) }) {
		// Every signature expired or not yet valid: no key is fetched
		// (measured).
		if s.sigs[0].ValidityPeriod(j.now.AddDate(1000, 0, 0)) {
			return j.fail(dns.ExtendedErrorCodeSignatureNotYetValid)
		}
		return j.fail(dns.ExtendedErrorCodeSignatureExpired)
	}
	st, keys := v.zoneKeys(j, signer)
	if st != secSecure {
		return st
	}
	if v.verify(j, s, keys) {
		return secSecure
	}
	return j.fail(dns.ExtendedErrorCodeDNSKEYMissing)
}

// unsigned is the status of unsigned data owned by name.
//
// dnssec-check-unsigned=no does not change this: dnsmasq 2.90 answers
// SERVFAIL for unsigned data in a signed zone with it too (measured).
func (v *validator) unsigned(j *vjob, name string) secStatus {
	if st := v.nameStatus(j, name); st != secSecure {
		return st
	}
	return j.fail(dns.ExtendedErrorCodeRRSIGsMissing) // unsigned data in a signed zone
}

// verify reports whether one of the RRSIGs of s verifies with one of keys
// (and is within its validity period, unless time checks are off).
func (v *validator) verify(j *vjob, s *rrSet, keys []*dns.DNSKEY) bool {
	fails := 0
	for _, sig := range s.sigs {
		if !strings.EqualFold(sig.SignerName, s.sigs[0].SignerName) {
			continue
		}
		for _, k := range keys {
			if k.KeyTag() != sig.KeyTag || k.Algorithm != sig.Algorithm || k.Flags&dns.ZONE == 0 {
				continue
			}
			if j.crypto--; j.crypto < 0 {
				return false
			}
			if sig.Verify(k, s.rrs) == nil && (!j.timecheck || sig.ValidityPeriod(j.now)) {
				return true
			}
			if fails++; fails >= v.limits[conf.LimitSigFails] {
				return false
			}
		}
	}
	return false
}

// fetch asks the upstream servers for name/qtype with DO set (CD too with
// dnssec-debug), over TCP when the UDP answer is truncated. The servers are
// those of the domain table for name, else those of the query.
func (v *validator) fetch(j *vjob, name string, qtype uint16) (*dns.Msg, error) {
	if j.subq--; j.subq < 0 {
		return nil, errDNSSECLimit
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	m.CheckingDisabled = v.cfg.Debug
	m.SetEdns0(v.udpSize, true)
	servers := j.servers
	if v.servers != nil {
		if s := v.servers(name); len(s) > 0 {
			servers = s
		}
	}
	r, _, err := v.fwd.Exchange(j.ctx, m, servers, false)
	if err == nil && r.Truncated {
		r, _, err = v.fwd.Exchange(j.ctx, m, servers, true)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// cacheTTL is how long a fetched proof is kept: its shortest TTL, at least
// 5 seconds and at most an hour.
func cacheTTL(rrs ...[]dns.RR) time.Duration {
	t := uint32(3600)
	for _, sec := range rrs {
		for _, rr := range sec {
			if rr.Header().Rrtype != dns.TypeOPT {
				t = min(t, rr.Header().Ttl)
			}
		}
	}
	return time.Duration(max(t, 5)) * time.Second
}

// zoneKeys returns the validated DNSKEYs of zone: their DS comes from a
// trust anchor or from the (validated) parent zone.
func (v *validator) zoneKeys(j *vjob, zone string) (secStatus, []*dns.DNSKEY) {
	zone = strings.ToLower(dns.Fqdn(zone))
	v.mu.Lock()
	e, ok := v.keys[zone]
	v.mu.Unlock()
	if ok && j.now.Before(e.expires) {
		return e.status, e.keys
	}
	if j.bogusKeys[zone] {
		return secBogus, nil
	}
	st, keys, ttl := v.fetchKeys(j, zone)
	if st == secBogus {
		if j.bogusKeys == nil {
			j.bogusKeys = map[string]bool{}
		}
		j.bogusKeys[zone] = true
	}
	// Bogus results are not kept: the next query tries again, as dnsmasq
	// does (measured).
	if st != secBogus && j.ctx.Err() == nil && j.subq >= 0 && j.crypto >= 0 {
		v.mu.Lock()
		prune(v.keys, j.now, func(e keyEntry) time.Time { return e.expires })
		v.keys[zone] = keyEntry{status: st, keys: keys, expires: j.now.Add(ttl)}
		v.mu.Unlock()
	}
	return st, keys
}

func (v *validator) fetchKeys(j *vjob, zone string) (secStatus, []*dns.DNSKEY, time.Duration) {
	var ds []*dns.DS
	for _, a := range v.cfg.Anchors {
		if a.Hdr.Name == zone {
			ds = append(ds, a)
		}
	}
	if len(ds) == 0 {
		kind, found := v.dsStatus(j, zone)
		switch kind {
		case dsPresent:
			ds = found
		case dsInsecureCut:
			return secInsecure, nil, time.Minute
		default:
			return secBogus, nil, 5 * time.Second
		}
	}
	r, err := v.fetch(j, zone, dns.TypeDNSKEY)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		return secBogus, nil, 5 * time.Second
	}
	var set *rrSet
	for _, s := range rrsets(r.Answer) {
		if s.rrs[0].Header().Rrtype == dns.TypeDNSKEY && strings.EqualFold(s.rrs[0].Header().Name, zone) {
			set = s
		}
	}
	if set == nil {
		return secBogus, nil, 5 * time.Second
	}
	var keys, sep []*dns.DNSKEY
	for _, rr := range set.rrs {
		k := rr.(*dns.DNSKEY)
		keys = append(keys, k)
		for _, d := range ds {
			if k.KeyTag() != d.KeyTag || k.Algorithm != d.Algorithm {
				continue
			}
			if j.crypto--; j.crypto < 0 {
				return secBogus, nil, 0
			}
			if x := k.ToDS(d.DigestType); x != nil && strings.EqualFold(x.Digest, d.Digest) {
				sep = append(sep, k)
			}
		}
	}
	if len(sep) == 0 {
		// No key matches a DS: dnsmasq names this code (measured).
		return j.fail(dns.ExtendedErrorCodeUnsupportedDSDigestType), nil, 5 * time.Second
	}
	if !v.verify(j, set, sep) {
		return j.fail(dns.ExtendedErrorCodeDNSKEYMissing), nil, 5 * time.Second
	}
	return secSecure, keys, cacheTTL(set.rrs)
}

// dsStatus looks up the DS records of name and what they prove.
func (v *validator) dsStatus(j *vjob, name string) (dsKind, []*dns.DS) {
	name = strings.ToLower(dns.Fqdn(name))
	v.mu.Lock()
	e, ok := v.ds[name]
	v.mu.Unlock()
	if ok && j.now.Before(e.expires) {
		return e.kind, e.ds
	}
	kind, ds, ttl := v.fetchDS(j, name)
	if kind != dsBogus && kind != dsUnsigned && j.ctx.Err() == nil && j.subq >= 0 && j.crypto >= 0 {
		v.mu.Lock()
		prune(v.ds, j.now, func(e dsEntry) time.Time { return e.expires })
		v.ds[name] = dsEntry{kind: kind, ds: ds, expires: j.now.Add(ttl)}
		v.mu.Unlock()
	}
	return kind, ds
}

func (v *validator) fetchDS(j *vjob, name string) (dsKind, []*dns.DS, time.Duration) {
	short := 5 * time.Second
	r, err := v.fetch(j, name, dns.TypeDS)
	if err != nil || r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return dsBogus, nil, short
	}
	ttl := cacheTTL(r.Answer, r.Ns)
	for _, s := range rrsets(r.Answer) {
		if s.rrs[0].Header().Rrtype != dns.TypeDS || !strings.EqualFold(s.rrs[0].Header().Name, name) {
			continue
		}
		if len(s.sigs) == 0 {
			return dsUnsigned, nil, ttl
		}
		signer := strings.ToLower(s.sigs[0].SignerName)
		if signer == name || !dns.IsSubDomain(signer, name) {
			return dsBogus, nil, short
		}
		st, keys := v.zoneKeys(j, signer)
		switch {
		case st == secInsecure:
			return dsInsecureCut, nil, ttl
		case st == secBogus || !v.verify(j, s, keys):
			return dsBogus, nil, short
		}
		var ds []*dns.DS
		for _, rr := range s.rrs {
			ds = append(ds, rr.(*dns.DS))
		}
		return dsPresent, ds, ttl
	}
	// No DS: a signed denial from the parent zone.
	sets := rrsets(r.Ns)
	signer := ""
	for _, s := range sets {
		if len(s.sigs) > 0 {
			signer = strings.ToLower(s.sigs[0].SignerName)
			break
		}
	}
	if signer == "" {
		return dsUnsigned, nil, ttl
	}
	if !dns.IsSubDomain(signer, name) {
		return dsBogus, nil, short
	}
	st, keys := v.zoneKeys(j, signer)
	if st == secInsecure {
		return dsInsecureCut, nil, ttl
	}
	if st == secBogus {
		return dsBogus, nil, short
	}
	for _, s := range sets {
		if !v.verify(j, s, keys) {
			return dsBogus, nil, short
		}
	}
	if signer == name {
		// The child zone answered: the name is a zone apex whose parent
		// denies nothing; treat as no proof.
		return dsBogus, nil, short
	}
	nx := r.Rcode == dns.RcodeNameError
	for _, rr := range r.Ns {
		switch x := rr.(type) {
		case *dns.NSEC:
			if strings.EqualFold(x.Hdr.Name, name) {
				if hasType(x.TypeBitMap, dns.TypeDS) {
					return dsBogus, nil, short
				}
				if hasType(x.TypeBitMap, dns.TypeNS) && !hasType(x.TypeBitMap, dns.TypeSOA) {
					return dsInsecureCut, nil, ttl
				}
				return dsNoCut, nil, ttl
			}
		case *dns.NSEC3:
			if x.Iterations > uint16(v.limits[conf.LimitNSEC3Iterations]) {
				return dsBogus, nil, short
			}
			if x.Match(name) {
				if hasType(x.TypeBitMap, dns.TypeDS) {
					return dsBogus, nil, short
				}
				if hasType(x.TypeBitMap, dns.TypeNS) && !hasType(x.TypeBitMap, dns.TypeSOA) {
					return dsInsecureCut, nil, ttl
				}
				return dsNoCut, nil, ttl
			}
		}
	}
	if nx && v.provesNX(j, name, dns.TypeDS, r.Ns) {
		return dsNoCut, nil, ttl
	}
	// NSEC3 opt-out: the next closer name is covered by an opt-out span.
	for _, rr := range r.Ns {
		if x, ok := rr.(*dns.NSEC3); ok && x.Flags&1 == 1 && x.Cover(name) {
			return dsInsecureCut, nil, ttl
		}
	}
	return dsBogus, nil, short
}

// nameStatus reports whether name is inside a signed zone (secure), below
// an insecure delegation (insecure), or bogus: it walks down from the
// closest trust anchor asking for DS records, label by label.
func (v *validator) nameStatus(j *vjob, name string) secStatus {
	name = strings.ToLower(dns.Fqdn(name))
	anchor := ""
	for _, a := range v.cfg.Anchors {
		if dns.IsSubDomain(a.Hdr.Name, name) && (anchor == "" || dns.CountLabel(a.Hdr.Name) > dns.CountLabel(anchor)) {
			anchor = a.Hdr.Name
		}
	}
	if anchor == "" {
		return secInsecure
	}
	labels := dns.SplitDomainName(name)
	for n := dns.CountLabel(anchor) + 1; n <= len(labels); n++ {
		sub := strings.Join(labels[len(labels)-n:], ".") + "."
		kind, _ := v.dsStatus(j, sub)
		switch kind {
		case dsPresent, dsNoCut:
		case dsInsecureCut:
			return secInsecure
		case dsUnsigned:
			return j.fail(dns.ExtendedErrorCodeNSECMissing)
		default:
			return j.fail(dns.ExtendedErrorCodeDNSBogus)
		}
	}
	return secSecure
}

// checkDenial validates the authority section of a negative answer for
// name/qtype: every RRset must verify, and in a signed zone NSEC or NSEC3
// records must prove that the name (nx) or the type does not exist.
func (v *validator) checkDenial(j *vjob, name string, qtype uint16, nx bool, ns []dns.RR) secStatus {
	sets := rrsets(ns)
	signed := false
	for _, s := range sets {
		signed = signed || len(s.sigs) > 0
	}
	if !signed {
		return v.unsigned(j, name)
	}
	for _, s := range sets {
		if st := v.checkSet(j, s); st != secSecure {
			return st
		}
	}
	// NODATA is also proven by a wildcard that lacks the type.
	if nx && v.provesNX(j, name, qtype, ns) || !nx && (provesNoData(name, qtype, ns, v.limits[conf.LimitNSEC3Iterations]) || v.provesNX(j, name, qtype, ns)) {
		return secSecure
	}
	return j.fail(dns.ExtendedErrorCodeNSECMissing)
}

func hasType(bitmap []uint16, t uint16) bool {
	for _, x := range bitmap {
		if x == t {
			return true
		}
	}
	return false
}

// provesNoData reports whether an NSEC or NSEC3 record at name shows that
// it has no records of qtype (nor a CNAME).
func provesNoData(name string, qtype uint16, ns []dns.RR, maxIter int) bool {
	for _, rr := range ns {
		switch x := rr.(type) {
		case *dns.NSEC:
			if strings.EqualFold(x.Hdr.Name, name) && !hasType(x.TypeBitMap, qtype) && !hasType(x.TypeBitMap, dns.TypeCNAME) {
				return true
			}
		case *dns.NSEC3:
			if int(x.Iterations) <= maxIter && x.Match(name) && !hasType(x.TypeBitMap, qtype) && !hasType(x.TypeBitMap, dns.TypeCNAME) {
				return true
			}
		}
	}
	return false
}

// provesNX reports whether the NSEC or NSEC3 records prove that name does
// not exist and that no wildcard could have answered it for qtype: the
// wildcard does not exist, or has neither that type nor a CNAME.
func (v *validator) provesNX(j *vjob, name string, qtype uint16, ns []dns.RR) bool {
	var nsecs []*dns.NSEC
	var nsec3s []*dns.NSEC3
	for _, rr := range ns {
		switch x := rr.(type) {
		case *dns.NSEC:
			nsecs = append(nsecs, x)
		case *dns.NSEC3:
			if int(x.Iterations) > v.limits[conf.LimitNSEC3Iterations] {
				return false
			}
			nsec3s = append(nsec3s, x)
		}
	}
	if len(nsecs) > 0 {
		for _, x := range nsecs {
			if !nsecCovers(x, name) {
				continue
			}
			// The closest encloser is the longest ancestor of name shared
			// with either end of the covering NSEC.
			ce := max(dns.CompareDomainName(name, x.Hdr.Name), dns.CompareDomainName(name, x.NextDomain))
			labels := dns.SplitDomainName(name)
			wild := "*." + strings.Join(labels[len(labels)-ce:], ".") + "."
			if ce == 0 {
				wild = "*."
			}
			for _, w := range nsecs {
				if nsecCovers(w, wild) || strings.EqualFold(w.Hdr.Name, wild) && !hasType(w.TypeBitMap, qtype) && !hasType(w.TypeBitMap, dns.TypeCNAME) {
					return true
				}
			}
		}
		return false
	}
	if len(nsec3s) == 0 {
		return false
	}
	// Closest encloser proof (RFC 5155 section 8.4).
	labels := dns.SplitDomainName(name)
	for i := 1; i < len(labels); i++ {
		ce := strings.Join(labels[i:], ".") + "."
		nextCloser := strings.Join(labels[i-1:], ".") + "."
		matched, covered, wild := false, false, false
		for _, x := range nsec3s {
			if j.crypto -= 3; j.crypto < 0 {
				return false
			}
			matched = matched || x.Match(ce)
			covered = covered || x.Cover(nextCloser)
			wild = wild || x.Cover("*."+ce) || x.Match("*."+ce) && !hasType(x.TypeBitMap, qtype) && !hasType(x.TypeBitMap, dns.TypeCNAME)
		}
		if matched {
			return covered && wild
		}
	}
	return false
}

// nsecCovers reports whether name falls strictly between the owner and the
// next name of an NSEC (in canonical order; the last NSEC wraps around).
func nsecCovers(x *dns.NSEC, name string) bool {
	owner, next := x.Hdr.Name, x.NextDomain
	if canonicalCompare(owner, name) >= 0 {
		return false
	}
	if canonicalCompare(owner, next) >= 0 { // last record of the chain
		return dns.IsSubDomain(next, name)
	}
	return canonicalCompare(name, next) < 0
}

// canonicalCompare orders names as RFC 4034 section 6.1 does: label by
// label from the right, case-insensitively.
func canonicalCompare(a, b string) int {
	la, lb := dns.SplitDomainName(strings.ToLower(a)), dns.SplitDomainName(strings.ToLower(b))
	for i, k := len(la)-1, len(lb)-1; i >= 0 && k >= 0; i, k = i-1, k-1 {
		if c := strings.Compare(unescapeLabel(la[i]), unescapeLabel(lb[k])); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// unescapeLabel turns a presentation label into its wire bytes (for \DDD
// and \X escapes), so that labels compare as octet strings.
func unescapeLabel(l string) string {
	if !strings.Contains(l, `\`) {
		return l
	}
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		if l[i] == '\\' && i+3 < len(l) && isDigit(l[i+1]) && isDigit(l[i+2]) && isDigit(l[i+3]) {
			b.WriteByte((l[i+1]-'0')*100 + (l[i+2]-'0')*10 + (l[i+3] - '0'))
			i += 3
			continue
		}
		if l[i] == '\\' && i+1 < len(l) {
			i++
		}
		b.WriteByte(l[i])
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
