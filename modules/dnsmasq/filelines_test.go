package dnsmasq

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
