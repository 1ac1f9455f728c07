package dnsmasq

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
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
		if le := (*conf.LineError)(nil); !errors.As(err, &le) {
			t.Errorf("%q: %v names no line", in, err)
		} else if strings.HasPrefix(in, "dnssec\n") && le.Line.Text != "dnssec" {
			t.Errorf("%q: %v names line %q, want the dnssec line", in, err, le.Line.Text)
		}
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
	plain := &resolver{cfg: &conf.Config{}}
	validating := &resolver{cfg: &conf.Config{DNSSEC: conf.DNSSECConfig{Validate: true}}}
	for _, c := range []struct {
		r      *resolver
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
