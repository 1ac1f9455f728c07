package dnsmasq

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDomainRange(t *testing.T) {
	c, err := parse(t, "domain=def.test", "domain=lan.test,192.168.1.0/24,local", "domain=rng.test,10.0.0.10,10.0.0.20,local",
		"domain=v6.test,fd00::/64", "domain=big.test,10.1.0.0/16", "domain=small.test,10.1.2.0/24", "domain=big.test,10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]string{
		"192.168.1.5": "lan.test", "192.168.2.5": "def.test", "10.0.0.10": "rng.test", "10.0.0.20": "rng.test",
		"10.0.0.21": "def.test", "fd00::5": "v6.test", "fd01::5": "def.test", "10.1.2.3": "big.test", "10.1.3.3": "big.test",
	} {
		if got := domainFor(c, netip.MustParseAddr(a)); got != want {
			t.Errorf("domain of %s: %s, want %s", a, got, want)
		}
	}
	// local: the forward and reverse zones of the prefix form only.
	var local []string
	for _, r := range c.Rules {
		if r.Local {
			local = append(local, r.Domain)
		}
	}
	if strings.Join(local, " ") != "lan.test 1.168.192.in-addr.arpa" {
		t.Errorf("local zones: %q", local)
	}
	for _, bad := range []string{"domain=x.test,192.168.1.0/24,foo", "domain=x.test,192.168.1.0", "domain=x.test,lo",
		"domain=x.test,10.0.0.20,10.0.0.10", "domain=x.test,10.0.0.1,fd00::1", "domain=x.test,10.0.0.0/40", "domain=x.test,10.0.0.1,10.0.0.2,3"} {
		if _, err := parse(t, bad); err == nil || !strings.Contains(err.Error(), "--domain") {
			t.Errorf("%q: got %v, want an error naming --domain", bad, err)
		}
	}

	// expand-hosts uses the range's domain.
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte("192.168.1.5 inr\n192.168.2.5 outr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = parse(t, "no-hosts", "expand-hosts", "domain=def.test", "domain=lan.test,192.168.1.0/24", "addn-hosts="+hosts)
	if err != nil {
		t.Fatal(err)
	}
	hs := loadHosts(c, "/nonexistent", func(p string, err error) { t.Errorf("%s: %v", p, err) })
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	if strings.Join(names, " ") != "inr.lan.test inr outr.def.test outr" { // dnsmasq's order: the expanded name first
		t.Errorf("expanded names: %q", names)
	}
}
