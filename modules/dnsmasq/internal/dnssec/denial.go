package dnssec

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// wildcardProven reports whether an RRset expanded from a wildcard (its
// RRSIG has fewer labels than its owner) comes with the proof that its
// owner itself does not exist: an NSEC covering it, or an NSEC3 covering
// the next closer name (RFC 4035 section 5.3.4, RFC 5155 section 8.8). Sets
// that are not expansions need no proof.
func (v *Validator) wildcardProven(j *vjob, s *rrSet, ns []dns.RR) bool {
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

// checkDenial validates the authority section of a negative answer for
// name/qtype: every RRset must verify, and in a signed zone NSEC or NSEC3
// records must prove that the name (nx) or the type does not exist.
func (v *Validator) checkDenial(j *vjob, name string, qtype uint16, nx bool, ns []dns.RR) Status {
	sets := rrsets(ns)
	signed := false
	for _, s := range sets {
		signed = signed || len(s.sigs) > 0
	}
	if !signed {
		return v.unsigned(j, name)
	}
	for _, s := range sets {
		if st := v.checkSet(j, s); st != Secure {
			return st
		}
	}
	// NODATA is also proven by a wildcard that lacks the type.
	if nx && v.provesNX(j, name, qtype, ns) || !nx && (provesNoData(name, qtype, ns, v.limits[conf.LimitNSEC3Iterations]) || v.provesNX(j, name, qtype, ns)) {
		return Secure
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
func (v *Validator) provesNX(j *vjob, name string, qtype uint16, ns []dns.RR) bool {
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
