package dnssec

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// TestNewLimits: dnssec-limits entries left empty take dnsmasq's defaults.
func TestNewLimits(t *testing.T) {
	v := New(&conf.DNSSECConfig{Limits: [4]int{0, 7, 0, 0}}, nil, 0, nil, nil)
	if v.limits != [4]int{20, 7, 40, 150} {
		t.Errorf("limits with defaults: %v", v.limits)
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
	if got := Strip(rrs, dns.TypeA); len(got) != 1 {
		t.Errorf("A: %v", got)
	}
	if got := Strip(rrs, dns.TypeNSEC); len(got) != 2 {
		t.Errorf("NSEC asked: %v", got)
	}
}

func TestDNSSECTimestamp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ts")
	d := &conf.DNSSECConfig{Timestamp: path}
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
	if timeChecks(&conf.DNSSECConfig{NoTimecheck: true}, now) {
		t.Error("dnssec-no-timecheck: time checks on")
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
