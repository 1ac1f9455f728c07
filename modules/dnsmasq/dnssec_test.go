package dnsmasq

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const testAnchor = "trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"

func TestParseDNSSEC(t *testing.T) {
	c, err := parse(t, "dnssec", testAnchor, "trust-anchor=Example.COM,1,13,2,e0 6d", "dnssec-check-unsigned=no",
		"dnssec-no-timecheck", "dnssec-debug", "dnssec-timestamp=/var/lib/x", "dnssec-limits=1,,3,4,99", "proxy-dnssec")
	if err != nil {
		t.Fatal(err)
	}
	d := c.DNSSEC
	if !d.Validate || !d.Proxy || !d.NoCheckUnsigned || !d.NoTimecheck || !d.Debug || d.Timestamp != "/var/lib/x" {
		t.Errorf("flags: %+v", d)
	}
	if d.Limits != [4]int{1, 0, 3, 4} {
		t.Errorf("limits: %v", d.Limits)
	}
	if len(d.Anchors) != 2 || d.Anchors[0].Hdr.Name != "." || d.Anchors[0].KeyTag != 20326 || d.Anchors[0].Algorithm != 8 ||
		d.Anchors[1].Hdr.Name != "example.com." || d.Anchors[1].Digest != "E06D" || d.Anchors[1].Algorithm != 13 {
		t.Errorf("anchors: %v", d.Anchors)
	}
	c, err = parse(t, "dnssec-check-unsigned=no", "dnssec-check-unsigned")
	if err != nil || c.DNSSEC.NoCheckUnsigned {
		t.Errorf("dnssec-check-unsigned after =no: %v %+v", err, c.DNSSEC)
	}
	v := newValidator(&DNSSECConfig{Limits: [4]int{0, 7, 0, 0}}, nil, 0, nil, nil)
	if v.limits != [4]int{20, 7, 40, 150} {
		t.Errorf("limits with defaults: %v", v.limits)
	}
}

// TestParseDNSSECErrors pins the messages of dnsmasq 2.90 --test (line
// errors) and of its start-up (the last two).
func TestParseDNSSECErrors(t *testing.T) {
	for in, want := range map[string]string{
		"trust-anchor=IN,.,1,8,2,AB":               "bad trust anchor",
		"trust-anchor=.,1,8,2":                     "bad trust anchor",
		"trust-anchor=.,abc,8,2,AB":                "bad trust anchor",
		"trust-anchor=.,70000,8,2,AB":              "bad trust anchor",
		"trust-anchor=.,1,300,2,AB":                "bad trust anchor",
		"trust-anchor=.,1,8,2,XYZ":                 "bad HEX in trust anchor",
		"dnssec-check-unsigned=yes":                "bad value for dnssec-check-unsigned",
		"dnssec-limits=a":                          "bad number in --dnssec-limits",
		"dnssec=yes":                               "takes no argument",
		"proxy-dnssec=1":                           "takes no argument",
		"dnssec-no-timecheck=1":                    "takes no argument",
		"dnssec-timestamp":                         "missing argument",
		"dnssec":                                   "no root trust anchor provided for DNSSEC",
		"dnssec\n" + testAnchor + "\ncache-size=0": "cannot reduce cache size from default when DNSSEC enabled",
	} {
		_, err := parse(t, strings.Split(in, "\n")...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
			continue
		}
		// Every error names a line: the start-up checks name the dnssec line.
		if le := (*LineError)(nil); !errors.As(err, &le) {
			t.Errorf("%q: %v names no line", in, err)
		} else if strings.HasPrefix(in, "dnssec\n") && le.Line.Text != "dnssec" {
			t.Errorf("%q: %v names line %q, want the dnssec line", in, err, le.Line.Text)
		}
	}
}

func TestCanonicalOrder(t *testing.T) {
	// RFC 4034 section 6.1's example, in order.
	names := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
		"z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`}
	for i := 1; i < len(names); i++ {
		if canonicalCompare(names[i-1], names[i]) >= 0 || canonicalCompare(names[i], names[i-1]) <= 0 {
			t.Errorf("%s should sort before %s", names[i-1], names[i])
		}
	}
	if canonicalCompare("A.example.", "a.EXAMPLE.") != 0 {
		t.Error("case matters")
	}
	nsec := func(owner, next string) *dns.NSEC {
		return &dns.NSEC{Hdr: dns.RR_Header{Name: owner}, NextDomain: next}
	}
	for _, c := range []struct {
		nsec *dns.NSEC
		name string
		want bool
	}{
		{nsec("a.test.", "c.test."), "b.test.", true},
		{nsec("a.test.", "c.test."), "a.test.", false},
		{nsec("a.test.", "c.test."), "c.test.", false},
		{nsec("a.test.", "c.test."), "x.a.test.", true},
		{nsec("z.test.", "test."), "zz.test.", true}, // the last NSEC wraps to the apex
		{nsec("z.test.", "test."), "other.", false},
	} {
		if got := nsecCovers(c.nsec, c.name); got != c.want {
			t.Errorf("NSEC %s -> %s covers %s = %v", c.nsec.Hdr.Name, c.nsec.NextDomain, c.name, got)
		}
	}
}

func TestStripDNSSEC(t *testing.T) {
	rrs := []dns.RR{
		&dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA}},
		&dns.RRSIG{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeRRSIG}},
		&dns.NSEC{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeNSEC}},
	}
	if got := stripDNSSEC(rrs, dns.TypeA); len(got) != 1 {
		t.Errorf("A: %v", got)
	}
	if got := stripDNSSEC(rrs, dns.TypeNSEC); len(got) != 2 {
		t.Errorf("NSEC asked: %v", got)
	}
}

func TestDNSSECTimestamp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ts")
	d := &DNSSECConfig{Timestamp: path}
	now := time.Now()
	if !timeChecks(d, now) {
		t.Error("missing file: time checks off")
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("file not created: %v", err)
	}
	future := now.Add(time.Hour)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	if timeChecks(d, now) {
		t.Error("clock before the timestamp: time checks on")
	}
	if !timeChecks(d, future.Add(time.Second)) {
		t.Error("clock after the timestamp: time checks off")
	}
	if timeChecks(&DNSSECConfig{NoTimecheck: true}, now) {
		t.Error("dnssec-no-timecheck: time checks on")
	}
}

func TestCacheUsableDNSSEC(t *testing.T) {
	q := func(do, cd bool) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("a.test.", dns.TypeA)
		m.CheckingDisabled = cd
		if do {
			m.SetEdns0(1232, true)
		}
		return m
	}
	plain := &Resolver{cfg: &Config{}}
	validating := &Resolver{cfg: &Config{DNSSEC: DNSSECConfig{Validate: true}}}
	for _, c := range []struct {
		r      *Resolver
		do, cd bool
		st     cacheDNSSEC
		want   bool
	}{
		{plain, false, false, cacheUnvalidated, true},
		{plain, true, false, cacheUnvalidated, false}, // DO: never from the cache without dnssec
		{validating, false, false, cacheSecure, true},
		{validating, false, false, cacheInsecure, true},
		{validating, true, false, cacheInsecure, true},
		{validating, true, false, cacheSecure, false},       // forwarded again for the RRSIGs
		{validating, false, false, cacheUnvalidated, false}, // cached before a reload turned dnssec on
		{validating, false, true, cacheSecure, false},       // CD: upstream
	} {
		if got := c.r.cacheUsable(q(c.do, c.cd), c.st, c.r.cfg.DNSSEC.Validate); got != c.want {
			t.Errorf("validate=%v do=%v cd=%v status=%d: %v", c.r.cfg.DNSSEC.Validate, c.do, c.cd, c.st, got)
		}
	}
}

func TestPruneProofs(t *testing.T) {
	now := time.Now()
	m := map[string]dsEntry{}
	for i := 0; i < maxProofs; i++ {
		exp := now.Add(time.Hour)
		if i%2 == 0 {
			exp = now.Add(-time.Second)
		}
		m[strconv.Itoa(i)] = dsEntry{expires: exp}
	}
	n := len(m)
	prune(m, now, func(e dsEntry) time.Time { return e.expires })
	if len(m) != n/2 {
		t.Errorf("expired entries: %d left of %d", len(m), n)
	}
	for i := len(m); i < maxProofs; i++ {
		m["live"+strconv.Itoa(i)] = dsEntry{expires: now.Add(time.Hour)}
	}
	prune(m, now, func(e dsEntry) time.Time { return e.expires })
	if len(m) != 0 {
		t.Errorf("full of live entries: %d left", len(m))
	}
}
