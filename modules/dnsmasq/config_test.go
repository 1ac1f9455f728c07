package dnsmasq

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

func parse(t *testing.T, lines ...string) (*conf.Config, error) {
	t.Helper()
	var ls []Line
	for i, l := range lines {
		ls = append(ls, Line{File: "test.conf", Line: i + 1, Text: l})
	}
	return ParseLines(ls)
}

func TestParseOptions(t *testing.T) {
	c, err := parse(t,
		"no-resolv", "no-hosts", "port=1053", "listen-address=127.0.0.1,::1",
		"server=127.0.0.1#5399", "server=::1", "server=/a.test/10.0.0.1#54", "server=/b.test/#", "local=/c.test/",
		"server=//127.0.0.2", "server=/*w.test/127.0.0.3", "server=/.dot.test/127.0.0.4", "address=/*.sub.test/1.1.1.1",
		"address=/x.test/y.test/1.2.3.4", "address=/n.test/", "address=/z.test/#", "address=/#/9.9.9.9",
		"rev-server=10.1.0.0/16,127.0.0.1", "rev-server=192.168.0.0/24",
		"host-record=h,h2,1.2.3.4,::1,30", "cname=c1,c2,target,60", "txt-record=t,a,b", "mx-host=m,mail,5",
		"srv-host=_s._tcp.d,t,80,1,2", "ptr-record=1.0.0.10.in-addr.arpa,p", "naptr-record=n,1,2,U,E2U,!x!,r",
		"caa-record=c,0,issue,ca.example", "dns-rr=r,99,0102", "local-ttl=5", "neg-ttl=6", "max-ttl=7",
		"max-cache-ttl=8", "min-cache-ttl=9999", "cache-size=0", "no-negcache", "strict-order", "all-servers",
		"domain-needed", "bogus-priv", "stop-dns-rebind", "rebind-localhost-ok", "rebind-domain-ok=/a/b/",
		"bogus-nxdomain=10.0.0.0/8", "edns-packet-max=4096", "log-queries", "expand-hosts", "domain=lan",
		"bind-interfaces", "dhcp-range=1.1.1.1,1.1.1.5", "enable-tftp",
	)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 1053 || len(c.ListenAddrs) != 2 || len(c.Servers) != 2 || c.Servers[0].Addr != "127.0.0.1:5399" || c.Servers[1].Addr != "[::1]:53" {
		t.Errorf("listening/servers: %+v %+v %+v", c.Port, c.ListenAddrs, c.Servers)
	}
	if c.MinCacheTTL != 3600 || c.CacheSize != 0 || !c.HasMaxTTL || c.MaxTTL != 7 || c.EDNSPacketMax != 4096 {
		t.Errorf("ttl options: %+v", c)
	}
	if len(c.Ignored) != 2 {
		t.Errorf("ignored: %v", c.Ignored)
	}
	doms := map[string]conf.DomainRule{}
	for _, r := range c.Rules {
		doms[r.Domain] = r
	}
	for d, check := range map[string]func(conf.DomainRule) bool{
		"a.test":                 func(r conf.DomainRule) bool { return len(r.Servers) == 1 && r.Servers[0].Addr == "10.0.0.1:54" },
		"b.test":                 func(r conf.DomainRule) bool { return r.Standard },
		"c.test":                 func(r conf.DomainRule) bool { return r.Local },
		"":                       func(r conf.DomainRule) bool { return len(r.Servers) == 1 },
		"w.test":                 func(r conf.DomainRule) bool { return r.Wildcard },
		"dot.test":               func(r conf.DomainRule) bool { return !r.Wildcard },
		".sub.test":              func(r conf.DomainRule) bool { return r.Wildcard && len(r.Addrs) == 1 },
		"y.test":                 func(r conf.DomainRule) bool { return len(r.Addrs) == 1 },
		"n.test":                 func(r conf.DomainRule) bool { return r.NX },
		"z.test":                 func(r conf.DomainRule) bool { return r.Null },
		"#":                      func(r conf.DomainRule) bool { return len(r.Addrs) == 1 },
		"1.10.in-addr.arpa":      func(r conf.DomainRule) bool { return len(r.Servers) == 1 },
		"0.168.192.in-addr.arpa": func(r conf.DomainRule) bool { return r.Local },
	} {
		if r, ok := doms[d]; !ok || !check(r) {
			t.Errorf("rule for %q: %+v (found %v)", d, r, ok)
		}
	}
	if len(c.Hosts) != 4 || c.Hosts[0].TTL != 30 || !c.Hosts[0].Reverse || c.Hosts[2].Reverse {
		t.Errorf("host-record: %+v", c.Hosts)
	}
	if len(c.CNAMEs) != 2 || c.CNAMEs[1].Target != "target" || c.CNAMEs[1].TTL != 60 {
		t.Errorf("cname: %+v", c.CNAMEs)
	}
	if len(c.Records) != 7 {
		t.Errorf("records: %v", c.Records)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"foo-bar":                       "bad option at line 2 of test.conf",
		"address=/x/1.2.3.4.5":          "bad address in --address",
		"server=1.2.3.4#99999":          "bad address in --server",
		"server=/x/1.2.3.4@eth0@lo":     "interface can only be specified once",
		"server=1.2.3.4@::1":            "cannot use IPv4 server address with IPv6 source",
		"server=1.2.3.4@1.2.3.5#x":      "bad port",
		"add-subnet=33":                 "bad argument to --add-subnet",
		"add-subnet=24,56,3":            "bad argument to --add-subnet",
		"add-subnet=1.2.3.4":            "bad argument to --add-subnet",
		"add-mac=foo":                   "bad argument to --add-mac",
		"add-cpe-id":                    "missing argument to --add-cpe-id",
		"umbrella=deviceid:123":         "bad argument to --umbrella",
		"umbrella=orgid:4294967296":     "bad argument to --umbrella",
		"umbrella=":                     "bad argument to --umbrella",
		"strip-mac=1":                   "takes no argument",
		"query-port=70000":              "bad argument to --query-port",
		"port-limit=0":                  "bad argument to --port-limit",
		"fast-dns-retry=0":              "bad argument to --fast-dns-retry",
		"fast-dns-retry=10,0":           "bad argument to --fast-dns-retry",
		"fast-dns-retry=1,2,3":          "bad argument to --fast-dns-retry",
		"dns-loop-detect=1":             "takes no argument",
		"port=abc":                      "bad argument to --port",
		"no-resolv=1":                   "takes no argument",
		"cache-size":                    "missing argument",
		"auth-zone=x":                   "auth-zone needs auth-server",
		"auth-zone=x,eth0":              `bad subnet in --auth-zone: "eth0" (an interface name is not supported yet)`,
		"conntrack=1":                   "takes no argument",
		"ipset=/x/":                     "bad set name in --ipset",
		"ipset=s":                       "bad domain in --ipset",
		"ipset=/x/a,,b":                 "bad set name in --ipset",
		"nftset=/x/t":                   "bad set in --nftset",
		"nftset=/x/foo#t#s":             "bad set in --nftset",
		"nftset=/x/7#t#s":               "bad set in --nftset",
		"cname=a":                       "bad CNAME",
		"cname=a,t\ncname=a,u":          "duplicate CNAME",
		"host-record=h":                 "bad argument to --host-record",
		"txt-record=a,\"open":           "missing \"",
		"rev-server=10.0.0.0/40":        "bad prefix",
		"conf-file=/nonexistent/x.conf": "cannot read /nonexistent/x.conf",
		"domain=lan,eth0":               "bad address range in --domain",
	}
	for in, want := range cases {
		lines := append([]string{"no-hosts"}, strings.Split(in, "\n")...)
		_, err := parse(t, lines...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", in, err, want)
			continue
		}
		var le *conf.LineError
		if !errors.As(err, &le) || le.Line.File != "test.conf" || le.Line.Line < 2 {
			t.Errorf("%q: error %v does not name the file and line", in, err)
		}
	}
}

// TestConfFileAndDir: conf-file and conf-dir are read relative to the
// working directory (as dnsmasq does), errors name the included file's
// line, conf-dir skips dotfiles and backups and filters extensions.
func TestConfFileAndDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	must := func(p, body string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must("d/a.conf", "address=/a.test/1.1.1.1\n")
	must("d/b.conf", "# comment\n\naddress=/b.test/2.2.2.2\n")
	must("d/c.bak", "address=/c.test/3.3.3.3\n")
	must("d/.hidden", "bogus\n")
	must("d/e.conf~", "bogus\n")
	must("inc.conf", "conf-dir=d,.bak\n")
	c, err := parse(t, "conf-file=inc.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 2 {
		t.Errorf("rules: %+v", c.Rules)
	}
	c, err = parse(t, "conf-dir=d,*.bak")
	if err != nil || len(c.Rules) != 1 || c.Rules[0].Domain != "c.test" {
		t.Errorf("conf-dir with *.bak: %+v %v", c, err)
	}
	must("bad.conf", "no-hosts\n\nport=x\n")
	_, err = parse(t, "conf-file=bad.conf")
	if err == nil || !strings.Contains(err.Error(), "at line 3 of bad.conf") {
		t.Errorf("error in an included file: %v", err)
	}
	// A file including itself is read once.
	must("loop.conf", "conf-file=loop.conf\nno-hosts\n")
	if _, err := parse(t, "conf-file=loop.conf"); err != nil {
		t.Errorf("self-include: %v", err)
	}
}

func TestListenAddresses(t *testing.T) {
	orig := systemIfaces
	defer func() { systemIfaces = orig }()
	systemIfaces = func() ([]systemIface, error) {
		return []systemIface{
			{name: "lo", loopback: true, addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}},
			{name: "eth0", addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}},
			{name: "eth1", addrs: []netip.Addr{netip.MustParseAddr("198.51.100.2"), netip.MustParseAddr("fe80::1%eth1")}},
		}, nil
	}
	for lines, want := range map[string]string{
		"":                                      "127.0.0.1",
		"listen-address=10.0.0.1":               "10.0.0.1",
		"interface=eth0":                        "127.0.0.1 ::1 192.0.2.2",
		"interface=eth*":                        "127.0.0.1 ::1 192.0.2.2 198.51.100.2 fe80::1%eth1",
		"interface=eth*\nexcept-interface=eth1": "127.0.0.1 ::1 192.0.2.2",
		"except-interface=lo":                   "192.0.2.2 198.51.100.2 fe80::1%eth1",
		"listen-address=192.0.2.2\nexcept-interface=eth0\nlisten-address=127.0.0.1": "127.0.0.1",
	} {
		var ls []string
		if lines != "" {
			ls = strings.Split(lines, "\n")
		}
		c, err := parse(t, ls...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := listenAddresses(c)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("%q: got %q %v, want %q", lines, got, err, want)
		}
	}
	c, _ := parse(t, "interface=nope0")
	if _, err := listenAddresses(c); err == nil {
		t.Error("unknown interface accepted")
	}
}

func TestParseMoreOptions(t *testing.T) {
	c, err := parse(t, "alias=1.2.3.0,6.7.8.0,255.255.255.0", "alias=192.168.0.10-192.168.0.40,10.0.0.0,255.255.255.0",
		"filter-A", "filter-rr=MX,TYPE99,ANY", "cache-rr=TXT,65", "no-round-robin", "dns-forward-max=7", "min-port=2000",
		"max-port=3000", "mx-target=mx.example", "selfmx", "localmx", "mx-host=m", "filterwin2k", "interface=lo",
		"except-interface=eth9", "local-service=host")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Aliases[0].Apply(0x01020338); got != 0x06070838 { // 1.2.3.56 -> 6.7.8.56
		t.Errorf("alias mask: %08x", got)
	}
	if got, ok := c.Aliases[1].Apply(0xc0a8000a); !ok || got != 0x0a00000a { // 192.168.0.10 -> 10.0.0.10
		t.Errorf("alias range: %08x %v", got, ok)
	}
	if _, ok := c.Aliases[1].Apply(0xc0a80029); ok { // 192.168.0.41 is outside the range
		t.Error("alias range matched outside")
	}
	if len(c.FilterRR) != 3 || !c.FilterANY || len(c.CacheRR) != 2 || c.CacheRR[1] != 65 {
		t.Errorf("filter/cache-rr: %v %v %v", c.FilterRR, c.FilterANY, c.CacheRR)
	}
	if !c.NoRoundRobin || c.ForwardMax != 7 || c.MinPort != 2000 || c.MaxPort != 3000 || !c.SelfMX || !c.LocalMX || !c.FilterWin2k {
		t.Errorf("flags: %+v", c)
	}
	if mx := c.Records[0].String(); !strings.HasSuffix(mx, "1 mx.example.") {
		t.Errorf("mx-host without target uses mx-target: %s", mx)
	}
	for _, bad := range []string{"alias=1.2.3.4", "alias=1.2.3.9-1.2.3.1,5.5.5.5", "filter-rr=NOPE", "dns-forward-max=0", "min-port=70000", "local-service=all", "interface="} {
		if _, err := parse(t, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestHostRecordForms: every host-record line dnsmasq 2.90 accepts loads,
// with dnsmasq's meaning of each field (option.c): digits or nothing is the
// TTL, names may follow addresses, a later address of a family wins.
func TestHostRecordForms(t *testing.T) {
	for _, tc := range []struct {
		line string
		want string // "name addr ttl" of each entry, space-separated entries
	}{
		{"host-record=v6only.test,,fd00::99", "v6only.test fd00::99 0"},
		{"host-record=trail.test,10.0.0.2,", "trail.test 10.0.0.2 0"},
		{"host-record=10.0.0.3,after.test", "after.test 10.0.0.3 -1"},
		{"host-record=ttl.test,42,10.0.0.4", "ttl.test 10.0.0.4 42"},
		{"host-record=two.test,10.0.0.5,10.0.0.6", "two.test 10.0.0.6 -1"},
		{"host-record=noaddr.test,77", ""},
	} {
		c, err := parse(t, tc.line)
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		var got []string
		for _, h := range c.Hosts {
			got = append(got, fmt.Sprintf("%s %s %d", h.Name, h.Addr, h.TTL))
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s: %q, want %q", tc.line, g, tc.want)
		}
	}
	for _, bad := range []string{"host-record=nocomma.test", "host-record=" + long64 + ".test,1.2.3.4"} {
		if _, err := parse(t, bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestCNAMELoopRefused: cname lines that loop are refused, as dnsmasq
// refuses to start with them; a chain that ends is accepted.
func TestCNAMELoopRefused(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		ok    bool
	}{
		{[]string{"cname=mail.ex.test,mail.ex.test"}, false},
		{[]string{"cname=a.lan,b.lan", "cname=b.lan,c.lan", "cname=c.lan,A.lan"}, false},
		{[]string{"cname=a.lan,b.lan", "cname=b.lan,c.lan"}, true},
		{[]string{"cname=a.lan,b.lan,c.lan"}, true},
	} {
		_, err := parse(t, tc.lines...)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok=%v", tc.lines, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "CNAME loop involving") {
			t.Errorf("%q: %v, want a CNAME loop error", tc.lines, err)
		}
	}
}
