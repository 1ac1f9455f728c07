package dnssec

import (
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

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
	status  Status
	keys    []*dns.DNSKEY
	expires time.Time
}

type dsEntry struct {
	kind    dsKind
	ds      []*dns.DS
	expires time.Time
}

func (e keyEntry) expiry() time.Time { return e.expires }

func (e dsEntry) expiry() time.Time { return e.expires }

// cached is the entry of name in the validator's store m, while it has
// not expired.
func cached[E any](v *Validator, m map[string]E, name string, now time.Time, expires func(E) time.Time) (E, bool) {
	v.mu.Lock()
	e, ok := m[name]
	v.mu.Unlock()
	return e, ok && now.Before(expires(e))
}

// keep stores e under name in the validator's store m (pruned first), when
// job j ran to its end: a proof from a cancelled job, or one that ran out
// of dnssec-limits, is not kept.
func keep[E any](v *Validator, j *vjob, m map[string]E, name string, e E, expires func(E) time.Time) {
	if j.ctx.Err() != nil || j.subq < 0 || j.crypto < 0 {
		return
	}
	v.mu.Lock()
	prune(m, j.now, expires)
	m[name] = e
	v.mu.Unlock()
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
func (v *Validator) zoneKeys(j *vjob, zone string) (Status, []*dns.DNSKEY) {
	zone = strings.ToLower(dns.Fqdn(zone))
	if e, ok := cached(v, v.keys, zone, j.now, keyEntry.expiry); ok {
		return e.status, e.keys
	}
	if j.bogusKeys[zone] {
		return Bogus, nil
	}
	st, keys, ttl := v.fetchKeys(j, zone)
	if st == Bogus {
		if j.bogusKeys == nil {
			j.bogusKeys = map[string]bool{}
		}
		j.bogusKeys[zone] = true
	}
	// Bogus results are not kept: the next query tries again, as dnsmasq
	// does (measured).
	if st != Bogus {
		keep(v, j, v.keys, zone, keyEntry{status: st, keys: keys, expires: j.now.Add(ttl)}, keyEntry.expiry)
	}
	return st, keys
}

func (v *Validator) fetchKeys(j *vjob, zone string) (Status, []*dns.DNSKEY, time.Duration) {
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
			return Insecure, nil, time.Minute
		default:
			return Bogus, nil, 5 * time.Second
		}
	}
	r, err := v.fetch(j, zone, dns.TypeDNSKEY)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		return Bogus, nil, 5 * time.Second
	}
	var set *rrSet
	for _, s := range rrsets(r.Answer) {
		if s.rrs[0].Header().Rrtype == dns.TypeDNSKEY && strings.EqualFold(s.rrs[0].Header().Name, zone) {
			set = s
		}
	}
	if set == nil {
		return Bogus, nil, 5 * time.Second
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
				return Bogus, nil, 0
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
	return Secure, keys, cacheTTL(set.rrs)
}

// dsStatus looks up the DS records of name and what they prove.
func (v *Validator) dsStatus(j *vjob, name string) (dsKind, []*dns.DS) {
	name = strings.ToLower(dns.Fqdn(name))
	if e, ok := cached(v, v.ds, name, j.now, dsEntry.expiry); ok {
		return e.kind, e.ds
	}
	kind, ds, ttl := v.fetchDS(j, name)
	if kind != dsBogus && kind != dsUnsigned {
		keep(v, j, v.ds, name, dsEntry{kind: kind, ds: ds, expires: j.now.Add(ttl)}, dsEntry.expiry)
	}
	return kind, ds
}

// fetchDS asks for the DS records of name and returns what they prove and
// how long that holds (5 seconds for a failure).
func (v *Validator) fetchDS(j *vjob, name string) (dsKind, []*dns.DS, time.Duration) {
	short := 5 * time.Second
	r, err := v.fetch(j, name, dns.TypeDS)
	if err != nil || r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return dsBogus, nil, short
	}
	kind, ds := v.dsAnswer(j, name, r)
	if kind == dsBogus {
		return dsBogus, nil, short
	}
	return kind, ds, cacheTTL(r.Answer, r.Ns)
}

// dsAnswer is what r, the reply to a DS query for name, proves: the DS
// records of its answer, checked with the keys of their signer, or else
// the parent zone's signed denial (see dsDenial).
func (v *Validator) dsAnswer(j *vjob, name string, r *dns.Msg) (dsKind, []*dns.DS) {
	for _, s := range rrsets(r.Answer) {
		if s.rrs[0].Header().Rrtype != dns.TypeDS || !strings.EqualFold(s.rrs[0].Header().Name, name) {
			continue
		}
		if len(s.sigs) == 0 {
			return dsUnsigned, nil
		}
		signer := strings.ToLower(s.sigs[0].SignerName)
		if signer == name || !dns.IsSubDomain(signer, name) {
			return dsBogus, nil
		}
		st, keys := v.zoneKeys(j, signer)
		switch {
		case st == Insecure:
			return dsInsecureCut, nil
		case st == Bogus || !v.verify(j, s, keys):
			return dsBogus, nil
		}
		var ds []*dns.DS
		for _, rr := range s.rrs {
			ds = append(ds, rr.(*dns.DS))
		}
		return dsPresent, ds
	}
	return v.dsDenial(j, name, r), nil
}

// dsDenial is what the authority section of r proves about name, which
// has no DS records: every RRset must verify with the keys of the parent
// zone that signed them, and an NSEC or NSEC3 record at name, a proof that
// name does not exist, or an NSEC3 opt-out span says what name is.
func (v *Validator) dsDenial(j *vjob, name string, r *dns.Msg) dsKind {
	sets := rrsets(r.Ns)
	signer := ""
	for _, s := range sets {
		if len(s.sigs) > 0 {
			signer = strings.ToLower(s.sigs[0].SignerName)
			break
		}
	}
	if signer == "" {
		return dsUnsigned
	}
	if !dns.IsSubDomain(signer, name) {
		return dsBogus
	}
	st, keys := v.zoneKeys(j, signer)
	if st == Insecure {
		return dsInsecureCut
	}
	if st == Bogus {
		return dsBogus
	}
	for _, s := range sets {
		if !v.verify(j, s, keys) {
			return dsBogus
		}
	}
	if signer == name {
		// The child zone answered: the name is a zone apex whose parent
		// denies nothing; treat as no proof.
		return dsBogus
	}
	if kind, ok := v.nsecAt(name, r.Ns); ok {
		return kind
	}
	if r.Rcode == dns.RcodeNameError && v.provesNX(j, name, dns.TypeDS, r.Ns) {
		return dsNoCut
	}
	// NSEC3 opt-out: the next closer name is covered by an opt-out span.
	for _, rr := range r.Ns {
		if x, ok := rr.(*dns.NSEC3); ok && x.Flags&1 == 1 && x.Cover(name) {
			return dsInsecureCut
		}
	}
	return dsBogus
}

// nsecAt is what the NSEC or NSEC3 record at name in ns says of its DS
// records: they exist (bogus: a DS query was denied), name is an unsigned
// delegation, or name is no zone cut. ok is false without such a record.
func (v *Validator) nsecAt(name string, ns []dns.RR) (kind dsKind, ok bool) {
	for _, rr := range ns {
		var bitmap []uint16
		switch x := rr.(type) {
		case *dns.NSEC:
			if !strings.EqualFold(x.Hdr.Name, name) {
				continue
			}
			bitmap = x.TypeBitMap
		case *dns.NSEC3:
			if x.Iterations > uint16(v.limits[conf.LimitNSEC3Iterations]) {
				return dsBogus, true
			}
			if !x.Match(name) {
				continue
			}
			bitmap = x.TypeBitMap
		default:
			continue
		}
		switch {
		case hasType(bitmap, dns.TypeDS):
			return dsBogus, true
		case hasType(bitmap, dns.TypeNS) && !hasType(bitmap, dns.TypeSOA):
			return dsInsecureCut, true
		}
		return dsNoCut, true
	}
	return 0, false
}

// nameStatus reports whether name is inside a signed zone (secure), below
// an insecure delegation (insecure), or bogus: it walks down from the
// closest trust anchor asking for DS records, label by label.
func (v *Validator) nameStatus(j *vjob, name string) Status {
	name = strings.ToLower(dns.Fqdn(name))
	anchor := ""
	for _, a := range v.cfg.Anchors {
		if dns.IsSubDomain(a.Hdr.Name, name) && (anchor == "" || dns.CountLabel(a.Hdr.Name) > dns.CountLabel(anchor)) {
			anchor = a.Hdr.Name
		}
	}
	if anchor == "" {
		return Insecure
	}
	labels := dns.SplitDomainName(name)
	for n := dns.CountLabel(anchor) + 1; n <= len(labels); n++ {
		sub := strings.Join(labels[len(labels)-n:], ".") + "."
		kind, _ := v.dsStatus(j, sub)
		switch kind {
		case dsPresent, dsNoCut:
		case dsInsecureCut:
			return Insecure
		case dsUnsigned:
			return j.fail(dns.ExtendedErrorCodeNSECMissing)
		default:
			return j.fail(dns.ExtendedErrorCodeDNSBogus)
		}
	}
	return Secure
}
