package dnsmasq

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// The lines dnsmasq 2.90 accepts with empty values, empty fields, trailing
// or doubled commas, and what it makes of them (read in option.c and
// measured with dig against dnsmasq 2.90): an empty number is 0, an empty
// name is the root, the last field an option reads holds the rest of the
// line.

// recordsOf renders the local records of a configuration, without TTLs.
func recordsOf(c *conf.Config) []string {
	var out []string
	for _, rr := range c.Records {
		out = append(out, strings.Replace(rr.String(), "\t0\t", "\t", 1))
	}
	for _, cn := range c.CNAMEs {
		out = append(out, "cname "+cn.Name+" -> "+cn.Target+" ttl "+strconv.Itoa(cn.TTL))
	}
	for _, h := range c.Hosts {
		out = append(out, "host "+h.Name+" "+h.Addr.String()+" ttl "+strconv.Itoa(h.TTL))
	}
	return out
}

func TestEmptyFieldsRecords(t *testing.T) {
	cases := map[string][]string{
		// The root owns records of an empty value.
		"txt-record=":                 {".\tIN\tTXT\t\"\""},
		"ptr-record=":                 {".\tIN\tPTR\t."},
		"srv-host=":                   {".\tIN\tSRV\t0 0 1 ."},
		"mx-target=mx.test\nmx-host=": {".\tIN\tMX\t1 mx.test."},
		// An empty target is the root; an empty number is 0.
		"ptr-record=7.100.51.198.in-addr.arpa,": {"7.100.51.198.in-addr.arpa.\tIN\tPTR\t."},
		"srv-host=_sip._tcp.lan,":               {"_sip._tcp.lan.\tIN\tSRV\t0 0 1 ."},
		"srv-host=_a._tcp.lan,t.lan,,,":         {"_a._tcp.lan.\tIN\tSRV\t0 0 0 t.lan."},
		"mx-host=b.corp.test,b.ex.test,":        {"b.corp.test.\tIN\tMX\t0 b.ex.test."},
		"dns-rr=d.lan,,0a":                      {"d.lan.\tCLASS1\tTYPE0\t\\# 1 0a"},
		"dns-rr=e.lan,65280,a:bc-d ef":          {"e.lan.\tCLASS1\tTYPE65280\t\\# 4 0abc0def"},
		"dns-rr=f.lan,65281,":                   {"f.lan.\tCLASS1\tTYPE65281\t\\# 0 "},
		// The last field holds the rest of the line.
		"ptr-record=x.lan,,b.ex.test":                     {"x.lan.\tIN\tPTR\t,b.ex.test."},
		`caa-record=ex.test,,0,,issue,,"ca.example.test"`: {"ex.test.\tIN\tCAA\t0 0 \",issue,,ca.example.test\""},
		`caa-record=a.ex.test,0,issue,"ca.example.test",`: {"a.ex.test.\tIN\tCAA\t0 issue \"ca.example.test,\""},
		`caa-record=a.corp.test,,issue,"ca.example.test"`: {"a.corp.test.\tIN\tCAA\t0 issue \"ca.example.test\""},
		`naptr-record=x.www.lan,,10,"U","E2U+sip","!x!",`: {"x.www.lan.\tIN\tNAPTR\t0 10 \"U\" \"E2U+sip\" \"!x!\" ."},
		`naptr-record=lan,100,10,"U","E2U+sip","!x!",,`:   {"lan.\tIN\tNAPTR\t100 10 \"U\" \"E2U+sip\" \"!x!\" ,."},
		"mx-target=a.lan,\nmx-host=m.lan":                 {"m.lan.\tIN\tMX\t1 a.lan,."},
		"mx-target=\nmx-host=m.lan":                       {"m.lan.\tIN\tMX\t1 ."},
		"txt-record=t.lan,b , c":                          {"t.lan.\tIN\tTXT\t\"b \" \" c\""},
		// cname: an empty last field is the TTL 0; an empty alias or
		// target is the root.
		"cname=nas.corp.test,":         {"cname nas.corp.test ->  ttl -1"},
		"cname=b.corp.test,ex.test,5,": {"cname b.corp.test -> 5 ttl 0", "cname ex.test -> 5 ttl 0"},
		"cname=printer,,router":        {"cname printer -> router ttl -1", "cname  -> router ttl -1"},
		// host-record: an empty field is the TTL 0, in any place; names
		// may follow addresses; a name without an address defines nothing.
		"host-record=a.corp.test,,198.51.100.7":        {"host a.corp.test 198.51.100.7 ttl 0"},
		"host-record=nas,10.0.0.2,":                    {"host nas 10.0.0.2 ttl 0"},
		"host-record=m.ex.test,198.51.100.7,10.0.0,30": {"host m.ex.test 198.51.100.7 ttl 30", "host 10.0.0 198.51.100.7 ttl 30"},
		"host-record=x,5,10.0.0.3,y":                   {"host x 10.0.0.3 ttl 5", "host y 10.0.0.3 ttl 5"},
		"host-record=z.lan,":                           nil,
		"host-record=n,,::":                            {"host n :: ttl 0"},
	}
	for in, want := range cases {
		c, err := parse(t, append([]string{"no-hosts"}, strings.Split(in, "\n")...)...)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := recordsOf(c); !slices.Equal(got, want) {
			t.Errorf("%q:\n got  %q\n want %q", in, got, want)
		}
	}
}

func TestEmptyFieldsOptions(t *testing.T) {
	c, err := parse(t, "no-hosts", "cache-size=", "local-ttl=", "neg-ttl=", "max-ttl=", "max-cache-ttl=", "min-cache-ttl=",
		"addn-hosts=", "domain=", "filter-rr=", "filter-rr=TXT,MX,", "rebind-domain-ok=/lan//")
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheSize != 0 || c.LocalTTL != 0 || c.NegTTL != 0 || c.HasMaxTTL || c.HasMaxCacheTTL || c.MinCacheTTL != 0 {
		t.Errorf("empty numbers are 0 (and max-ttl=0 is no limit): %+v", c)
	}
	if len(c.AddnHosts) != 0 || c.Domain != "" {
		t.Errorf("addn-hosts= loads nothing, domain= is no domain: %q %q", c.AddnHosts, c.Domain)
	}
	if !slices.Equal(c.FilterRR, []uint16{0, dns.TypeTXT, dns.TypeMX, 0}) {
		t.Errorf("filter-rr: an empty field is type 0: %v", c.FilterRR)
	}
	if !slices.Equal(c.RebindOK, []string{"lan", ""}) {
		t.Errorf("rebind-domain-ok=/lan//: %q", c.RebindOK)
	}
	if c, _ := parse(t, "max-ttl=0", "cache-size=99999999"); c.HasMaxTTL || c.CacheSize != conf.MaxCacheSize {
		t.Errorf("max-ttl=0 is no limit; cache-size is cut to %d: %+v", conf.MaxCacheSize, c)
	}
	// domain=<name>, is the domain of the address 0.0.0.0 only.
	c, err = parse(t, "no-hosts", "domain=ex.test,")
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != "" || domainFor(c, netip.MustParseAddr("0.0.0.0")) != "ex.test" || domainFor(c, netip.MustParseAddr("10.0.0.1")) != "" {
		t.Errorf("domain=ex.test,: %+v", c.DomainRanges)
	}
}

func TestEmptyFieldsCatchAll(t *testing.T) {
	for _, line := range []string{"address=", "server=", "local=", "server=/#/", "local=/#/", "address=/#/"} {
		c, err := parse(t, "no-hosts", line)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if len(c.Rules) != 1 || c.Rules[0].Domain != conf.CatchAll || !(c.Rules[0].Local || c.Rules[0].NX) {
			t.Errorf("%s is the local rule for every name: %+v", line, c.Rules)
		}
		// A plain server wins over it in dnsmasq: the rule never answers.
		if c, _ = parse(t, "no-hosts", line, "server=127.0.0.1"); len(c.Rules) != 0 {
			t.Errorf("%s with a plain server: %+v", line, c.Rules)
		}
	}
	c, err := parse(t, "no-hosts", "server=/#/127.0.0.1#5353", "address=10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Servers) != 1 || c.Servers[0].Addr != "127.0.0.1:5353" || len(c.Rules) != 1 || c.Rules[0].Domain != conf.CatchAll {
		t.Errorf("server=/#/ip is a plain server, address=ip is address=/#/ip: %+v %+v", c.Servers, c.Rules)
	}
}

func TestEmptyFieldsRefused(t *testing.T) {
	cases := map[string]string{
		"cname=x,x":                                "CNAME loop involving x",
		"cname=a.lan,b.lan\ncname=b.lan,a.lan":     "CNAME loop involving b.lan",
		"cname=":                                   "bad CNAME",
		"host-record=":                             "bad argument to --host-record",
		"dns-rr=":                                  "bad RR record",
		"dns-rr=nas.lan,99999999999,0a0b0c":        "the type must be 0 to 65535",
		"caa-record=":                              "bad CAA record",
		"naptr-record=n,1,2,U,E2U":                 "bad NAPTR record",
		"srv-host=s,t,x":                           "invalid port number",
		"mx-host=m,t,x":                            "bad MX preference",
		"stop-dns-rebind\nrebind-domain-ok=":       "empty domain in --rebind-domain-ok",
		"rebind-domain-ok=/lan//\nstop-dns-rebind": "empty domain in --rebind-domain-ok",
	}
	for in, want := range cases {
		_, err := parse(t, append([]string{"no-hosts"}, strings.Split(in, "\n")...)...)
		var le *conf.LineError
		if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &le) || le.Line.Line < 2 {
			t.Errorf("%q: got %v, want a located error containing %q", in, err, want)
		}
	}
	// Without stop-dns-rebind the empty domain means nothing.
	if _, err := parse(t, "rebind-domain-ok="); err != nil {
		t.Errorf("rebind-domain-ok= alone: %v", err)
	}
}

// TestMissingHostsFiles: an addn-hosts or hostsdir path that cannot be read
// loads nothing and is reported, as dnsmasq logs it and goes on; the other
// files still load.
func TestMissingHostsFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "hosts")
	if err := os.WriteFile(good, []byte("10.0.0.1 nas\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := parse(t, "no-hosts", "addn-hosts="+good+",", "addn-hosts="+good, "hostsdir="+dir+"/none")
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	hs := loadHosts(c, "/nonexistent", func(p string, _ error) { skipped = append(skipped, p) })
	if len(hs) != 1 || hs[0].Name != "nas" || !slices.Equal(skipped, []string{good + ",", dir + "/none"}) {
		t.Errorf("hosts %+v, skipped %q", hs, skipped)
	}
}
