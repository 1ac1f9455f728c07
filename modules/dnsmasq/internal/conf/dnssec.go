package conf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// DNSSECConfig holds the DNSSEC options of a configuration.
type DNSSECConfig struct {
	Validate        bool           // dnssec: validate forwarded answers
	Proxy           bool           // proxy-dnssec: copy the upstream's AD bit
	Anchors         []*dns.DS      // trust-anchor=
	NoCheckUnsigned bool           // dnssec-check-unsigned=no: parsed; dnsmasq 2.90 validates unsigned answers the same way with it (measured)
	NoTimecheck     bool           // dnssec-no-timecheck: signature validity periods are not checked
	Timestamp       string         // dnssec-timestamp=: time checks start once the clock passes this file's mtime
	Debug           bool           // dnssec-debug: CD upstream, bogus answers passed on
	Limits          [numLimits]int // dnssec-limits, indexed by the Limit constants
}

// The entries of DNSSECConfig.Limits, in the order dnssec-limits= takes
// them.
const (
	LimitSigFails        = iota // signature validation failures per RRset
	LimitCrypto                 // cryptographic operations per query
	LimitSubqueries             // sub-queries (DNSKEY, DS) per query
	LimitNSEC3Iterations        // NSEC3 iterations accepted
	numLimits
)

// DefaultDNSSECLimits are dnsmasq 2.90's dnssec-limits defaults.
var DefaultDNSSECLimits = [numLimits]int{20, 200, 40, 150}

// optDNSSECCheckUnsigned parses dnssec-check-unsigned.
func optDNSSECCheckUnsigned(p *parser, o arg) error {
	d := &p.c.DNSSEC
	switch {
	case !o.has:
		d.NoCheckUnsigned = false
	case o.val == "no":
		d.NoCheckUnsigned = true
	default:
		return errors.New("bad value for dnssec-check-unsigned")
	}
	return nil
}

// optDNSSECTimestamp parses dnssec-timestamp.
func optDNSSECTimestamp(p *parser, o arg) error {
	if !o.has || o.val == "" {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	p.c.DNSSEC.Timestamp = o.val
	return nil
}

// optDNSSECLimits parses dnssec-limits.
func optDNSSECLimits(p *parser, o arg) error {
	d := &p.c.DNSSEC
	// Up to four numbers; empty fields keep the default, more fields are
	// ignored (as dnsmasq 2.90 does).
	for i, f := range strings.Split(o.val, ",") {
		if f == "" || !o.has {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return fmt.Errorf("bad number in --dnssec-limits: %q", f)
		}
		if i < len(d.Limits) {
			d.Limits[i] = n
		}
	}
	return nil
}

// optTrustAnchor parses trust-anchor.
func optTrustAnchor(p *parser, o arg) error {
	ds, err := parseTrustAnchor(o.val)
	if err != nil {
		return err
	}
	p.c.DNSSEC.Anchors = append(p.c.DNSSEC.Anchors, ds)
	return nil
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
