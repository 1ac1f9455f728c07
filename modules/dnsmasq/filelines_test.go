package dnsmasq

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestHostsFileLongLine: a hosts line far longer than bufio.Scanner's
// 64 KiB loads whole, and so do the lines around it; a last line without
// a line end counts too.
func TestHostsFileLongLine(t *testing.T) {
	var long strings.Builder
	long.WriteString("10.0.0.2")
	for i := range 10000 {
		fmt.Fprintf(&long, " a%d.test", i)
	}
	path := filepath.Join(t.TempDir(), "hosts")
	data := "10.0.0.1 first.test\r\n" + long.String() + "\n10.0.0.3 last.test # no line end"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	hs, err := readHostsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 10002 {
		t.Fatalf("%d entries, want 10002", len(hs))
	}
	if first, last := hs[0], hs[len(hs)-1]; first.Name != "first.test" || last.Name != "last.test" || last.Addr.String() != "10.0.0.3" {
		t.Errorf("first %+v, last %+v", first, last)
	}
	if a := hs[10000]; a.Name != "a9999.test" || a.Reverse {
		t.Errorf("last alias %+v", a)
	}
}

// TestEachLineStops: fn's false ends the reading; a missing file is an
// error.
func TestEachLineStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := eachLine(path, func(l string) bool { got = append(got, l); return l != "b" }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("lines %q, want a,b", got)
	}
	if err := eachLine(path+".none", func(string) bool { return true }); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

// TestHostsAddressForms: a hosts address is read as inet_pton reads it: an
// address with a zone skips the line, and an IPv4-mapped IPv6 address stays
// IPv6, its PTR under ip6.arpa (measured on dnsmasq 2.90).
func TestHostsAddressForms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(path, []byte("fe80::1%eth0 zone.test\n::ffff:10.0.0.5 mapped.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hs, err := readHostsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Name != "mapped.test" || !hs[0].Addr.Is4In6() {
		t.Fatalf("entries %+v, want mapped.test's IPv4-mapped address alone", hs)
	}
	if got, want := reverseName(hs[0].Addr), "5.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"; got != want {
		t.Errorf("reverse name %s, want %s", got, want)
	}
	for _, a := range []string{"10.0.0.5", "2001:db8::1", "fd00:1:2:3:4:5:6:7"} {
		want, _ := dns.ReverseAddr(a)
		if got := reverseName(netip.MustParseAddr(a)); got+"." != want {
			t.Errorf("reverse name of %s: %s, want %s", a, got, want)
		}
	}
}
