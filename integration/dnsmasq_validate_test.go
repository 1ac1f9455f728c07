package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// TestDnsmasqValidate: `frontdesk validate` rejects what `dnsmasq --test`
// rejects, naming the same file and line; conf-file paths are relative to
// the working directory for both; DHCP lines are accepted (and ignored).
func TestDnsmasqValidate(t *testing.T) {
	requirePeer(t, "dnsmasq")
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, conf string
		ok         bool
		where      string // "line N of FILE" both must name
	}{
		{"good", "no-hosts\naddress=/x.test/1.2.3.4\nserver=127.0.0.1#5399\ndhcp-range=10.0.0.10,10.0.0.20\nenable-tftp\n", true, ""},
		{"unknown", "no-hosts\nfoo-bar\n", false, "line 2 of main.conf"},
		{"bad-address", "address=/x/1.2.3.4.5\n", false, "line 1 of main.conf"},
		{"included", "conf-file=sub/inc.conf\n", false, "line 2 of sub/inc.conf"},
		{"conf-dir", "conf-dir=d\n", false, "line 1 of d/b.conf"},
		{"missing", "conf-file=nope.conf\n", false, ""},
		{"dnssec", "no-hosts\ndnssec\ntrust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n" +
			"dnssec-check-unsigned=no\ndnssec-limits=1,2\ndnssec-no-timecheck\ndnssec-debug\nproxy-dnssec\n", true, ""},
		{"trust-anchor-class", "no-hosts\ntrust-anchor=IN,.,1,8,2,AB\n", false, "line 2 of main.conf"},
		{"trust-anchor-hex", "trust-anchor=.,1,8,2,XYZ\n", false, "line 1 of main.conf"},
		{"check-unsigned", "no-hosts\n\ndnssec-check-unsigned=yes\n", false, "line 3 of main.conf"},
		// dnsmasq reads a line 1024 bytes at a time, each piece a line: a
		// long comment's rest is a bad option (numbered as dnsmasq counts),
		// a long line's blank rest is nothing, and so is a line of exactly
		// 1024 bytes.
		{"long-comment", "no-hosts\n# " + strings.Repeat("x", 2000) + "\nport=1053\n", false, "line 3 of main.conf"},
		{"long-blank", "no-hosts" + strings.Repeat(" ", 1500) + "\n# " + strings.Repeat("x", 1022) + "\nport=1053\n", true, ""},
	}
	write("sub/inc.conf", "no-hosts\nport=notanumber\n")
	write("d/a.conf", "no-hosts\n")
	write("d/b.conf", "bogus\n")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			write("main.conf", c.conf)
			dmOut, dmErr, fdOut, fdErr := validateBoth(t, dir, "main.conf")
			if (dmErr == nil) != c.ok || (fdErr == nil) != c.ok {
				t.Fatalf("want ok=%v; dnsmasq --test: %v %s; frontdesk validate: %v %s", c.ok, dmErr, dmOut, fdErr, lastLines(string(fdOut), 3))
			}
			if c.where != "" {
				if !strings.Contains(string(dmOut), c.where) || !strings.Contains(string(fdOut), c.where) {
					t.Errorf("both should name %q:\ndnsmasq: %s\nfrontdesk: %s", c.where, dmOut, lastLines(string(fdOut), 3))
				}
			}
		})
	}
}

// validateBoth checks the dnsmasq configuration file conf with `dnsmasq
// --test` and with `frontdesk validate` of a Caddyfile whose dnsmasq block
// includes it (conf-file=), both run in dir, and returns what each printed
// and its error.
func validateBoth(t *testing.T, dir, conf string) (dmOut []byte, dmErr error, fdOut []byte, fdErr error) {
	t.Helper()
	dm := exec.Command(harness.DnsmasqBin(), "--test", "-C", conf)
	dm.Dir = dir
	dmOut, dmErr = dm.CombinedOutput()
	caddyfile := filepath.Join(dir, "Caddyfile")
	writeFile(t, caddyfile, globalBlock(dnsmasqBlock("conf-file="+conf, "port=1053")))
	fd := exec.Command(frontdeskBin, "validate", "--config", caddyfile, "--adapter", "caddyfile")
	fd.Dir = dir
	fd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	fdOut, fdErr = fd.CombinedOutput()
	return dmOut, dmErr, fdOut, fdErr
}

// TestDnsmasqControlPlaneOptions: enable-dbus and enable-ubus load (as
// with dnsmasq --test), with one warning that names each line and says
// the admin API replaces them; DNS keeps working.
func TestDnsmasqControlPlaneOptions(t *testing.T) {
	srv := startDNSLines(t, "no-resolv", "no-hosts", "enable-dbus", "enable-ubus=my.name", "address=/x.test/1.2.3.4")
	fd, addr := srv.fd, srv.addr
	if r := query(t, addr, "x.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("DNS with enable-dbus: %v", r)
	}
	var warnings []string
	for _, l := range strings.Split(fd.Log(), "\n") {
		if strings.Contains(l, "D-Bus/ubus") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `"level":"warn"`) || !strings.Contains(warnings[0], "admin API") ||
		!strings.Contains(warnings[0], `Caddyfile:7 enable-dbus"`) || !strings.Contains(warnings[0], `Caddyfile:8 enable-ubus=my.name"`) {
		t.Errorf("want one warning naming both lines, got %q", warnings)
	}
}
