package dnssec

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
)

// Status is the DNSSEC status of an answer (RFC 4035 section 4.3); the
// order matters: the status of a whole answer is the least of its parts.
type Status int

// The statuses, least first.
const (
	Bogus    Status = iota // signatures or denial proofs missing or wrong: SERVFAIL
	Insecure               // not signed, and proven not to need to be
	Secure                 // signed up to a trust anchor
)

// String is the status as dnssec-debug logs it.
func (s Status) String() string {
	return [...]string{"bogus", "insecure", "secure"}[s]
}

// Validator checks forwarded answers against the trust anchors, fetching
// and caching the DS and DNSKEY records of the chain of trust from the
// upstream servers, as dnsmasq's --dnssec does.
type Validator struct {
	cfg      *conf.DNSSECConfig
	exchange Exchange
	udpSize  uint16                            // edns-packet-max, the size its DS and DNSKEY queries ask for
	servers  func(name string) []conf.Upstream // upstream servers for a DS/DNSKEY lookup
	limits   [len(conf.DefaultDNSSECLimits)]int
	log      *zap.Logger

	timeValid atomic.Bool // the clock was found valid: time checks stay on

	mu   sync.Mutex
	keys map[string]keyEntry // zone (lower case, fqdn) -> validated DNSKEYs
	ds   map[string]dsEntry  // name -> DS proof
}

// Exchange sends q to servers (failing over among them) and returns the
// reply and the server that gave it: the resolver's forwarding, which the
// validator's own queries go through.
type Exchange func(ctx context.Context, q *dns.Msg, servers []conf.Upstream, tcp bool) (*dns.Msg, conf.Upstream, error)

// New returns the validator of a configuration's dnssec options. It asks
// fetch for the DS and DNSKEY records of the chain of trust, with EDNS0 size
// udpSize, from servers(name) when that is not empty, else from the
// servers of the answer being validated.
func New(cfg *conf.DNSSECConfig, fetch Exchange, udpSize uint16, servers func(string) []conf.Upstream, log *zap.Logger) *Validator {
	v := &Validator{cfg: cfg, exchange: fetch, udpSize: udpSize, servers: servers, log: log, keys: map[string]keyEntry{}, ds: map[string]dsEntry{}}
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
	servers   []conf.Upstream
	subq      int // sub-queries left
	crypto    int // signature checks and hashes left
	now       time.Time
	timecheck bool
	bogusKeys map[string]bool // zones whose keys failed in this job (not cached)
	reason    uint16          // extended DNS error of the first failure
}

// fail records why validation failed (the first reason is kept) and
// returns Bogus.
func (j *vjob) fail(code uint16) Status {
	if j.reason == 0 {
		j.reason = code
	}
	return Bogus
}

var errDNSSECLimit = errors.New("dnssec-limits exceeded")

// Validate returns the status of reply, the upstream answer to q, and for
// a bogus one the extended DNS error that names the first failure (as
// dnsmasq's, measured with dnssec-debug).
func (v *Validator) Validate(ctx context.Context, q dns.Question, reply *dns.Msg, servers []conf.Upstream) (Status, uint16) {
	now := time.Now()
	timecheck := v.timeValid.Load()
	if !timecheck && timeChecks(v.cfg, now) {
		timecheck = true
		v.timeValid.Store(true)
	}
	j := &vjob{ctx: ctx, servers: servers, subq: v.limits[conf.LimitSubqueries], crypto: v.limits[conf.LimitCrypto], now: now, timecheck: timecheck}
	st := v.validateMsg(j, q, reply)
	if st == Bogus && j.reason == 0 {
		j.reason = dns.ExtendedErrorCodeDNSBogus
	}
	if v.cfg.Debug {
		v.log.Debug("dnssec", zap.String("name", q.Name), zap.String("type", dns.TypeToString[q.Qtype]), zap.Stringer("status", st),
			zap.String("reason", dns.ExtendedErrorCodeToString[j.reason]))
	}
	return st, j.reason
}

func (v *Validator) validateMsg(j *vjob, q dns.Question, reply *dns.Msg) Status {
	if reply.Rcode != dns.RcodeSuccess && reply.Rcode != dns.RcodeNameError {
		return Insecure
	}
	status := Secure
	for _, set := range rrsets(reply.Answer) {
		st := v.checkSet(j, set)
		if st == Secure && !v.wildcardProven(j, set, reply.Ns) {
			st = j.fail(dns.ExtendedErrorCodeNSECMissing)
		}
		if st == Bogus {
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

// checkSet validates one RRset: with signatures, against the keys of the
// signer's zone; without, it is insecure only when its name is proven to be
// outside any signed zone.
func (v *Validator) checkSet(j *vjob, s *rrSet) Status {
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
	if st := v.nameStatus(j, signer); st != Secure {
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
	if st != Secure {
		return st
	}
	if v.verify(j, s, keys) {
		return Secure
	}
	return j.fail(dns.ExtendedErrorCodeDNSKEYMissing)
}

// unsigned is the status of unsigned data owned by name.
//
// dnssec-check-unsigned=no does not change this: dnsmasq 2.90 answers
// SERVFAIL for unsigned data in a signed zone with it too (measured).
func (v *Validator) unsigned(j *vjob, name string) Status {
	if st := v.nameStatus(j, name); st != Secure {
		return st
	}
	return j.fail(dns.ExtendedErrorCodeRRSIGsMissing) // unsigned data in a signed zone
}

// verify reports whether one of the RRSIGs of s verifies with one of keys
// (and is within its validity period, unless time checks are off).
func (v *Validator) verify(j *vjob, s *rrSet, keys []*dns.DNSKEY) bool {
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
func (v *Validator) fetch(j *vjob, name string, qtype uint16) (*dns.Msg, error) {
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
	r, _, err := v.exchange(j.ctx, m, servers, false)
	if err == nil && r.Truncated {
		r, _, err = v.exchange(j.ctx, m, servers, true)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}
