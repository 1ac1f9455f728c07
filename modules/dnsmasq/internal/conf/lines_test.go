package conf

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCleanLine(t *testing.T) {
	cases := map[string]string{
		"server=1.2.3.4#53 # comment": "server=1.2.3.4#53",
		`txt-record=a,"x #y"`:         "txt-record=a,x\x01#y",
		"  port = 53  ":               "port=53",
		"# whole line":                "",
		`txt-record=a,"q\"uote\\d"`:   `txt-record=a,q"uote\d`,
		"address=/x/1.2.3.4\t#c":      "address=/x/1.2.3.4",
		"local=/lan/":                 "local=/lan/",
		`txt-record=n,"a, b",c`:       "txt-record=n,a\x00\x01b,c",
		"bogus-priv":                  "bogus-priv",
		"address=/#/1.2.3.4":          "address=/#/1.2.3.4",
		// The character after a closing quote is never an opening one,
		// and '#' there is a comment only after white space.
		`txt-record=m,"a""b"c"`: `txt-record=m,a"bc`,
		`txt-record=n, "x"#c`:   "txt-record=n, x",
		`txt-record=o,"x"#k`:    "txt-record=o,x#k",
	}
	for in, want := range cases {
		got, err := cleanLine(in)
		if err != nil || got != want {
			t.Errorf("cleanLine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`txt-record=a,"open`, `txt-record=a,""""`, `txt-record=a,"q"""`} {
		if _, err := cleanLine(bad); err == nil {
			t.Errorf("%s: unterminated quote accepted", bad)
		}
	}
}

// TestReadConfLinesPieces: a line longer than 1024 bytes is read as
// dnsmasq's fgets reads it, in pieces of 1024 bytes each numbered as a
// line, and the error names both counts.
func TestReadConfLinesPieces(t *testing.T) {
	exact := "# " + strings.Repeat("x", FilePieceMax-2)      // 1024 bytes and its newline: one line
	long := "# " + strings.Repeat("y", FilePieceMax+10)      // its last 12 bytes are a piece
	padded := "no-hosts" + strings.Repeat(" ", FilePieceMax) // the rest is blank
	in := exact + "\nport=53\n" + long + "\n" + padded + "\r\nno-resolv"
	ls, err := readConfLines(strings.NewReader(in), "f.conf")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ls {
		got = append(got, fmt.Sprintf("%d/%d %.10s", l.Line, l.inFile, l.Text))
	}
	want := []string{"3/2 port=53", "5/3 yyyyyyyyyy", "6/4 no-hosts", "8/5 no-resolv"}
	if !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	err = &LineError{Line: ls[1], Err: errors.New("bad option")}
	if msg := err.Error(); !strings.Contains(msg, "at line 5 of f.conf (as dnsmasq counts lines") || !strings.Contains(msg, "an editor's line 3)") {
		t.Errorf("error %q", msg)
	}
	if msg := (&LineError{Line: Line{File: "f.conf", Line: 2, Text: "x"}, Err: errors.New("e")}).Error(); msg != `dnsmasq: e at line 2 of f.conf: "x"` {
		t.Errorf("plain error %q", msg)
	}
}

// FuzzReadConfLines: whatever the bytes, the lines come in order, none is
// longer than a piece, and an editor's count never runs ahead of dnsmasq's.
func FuzzReadConfLines(f *testing.F) {
	for _, s := range []string{"port=53\n", "# c\r\nno-hosts", strings.Repeat("x", FilePieceMax) + "\nno-hosts\n",
		"a" + strings.Repeat(" ", 2*FilePieceMax+5) + "b\n\n\nc", "\n\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ls, err := readConfLines(strings.NewReader(in), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		prev := 0
		for _, l := range ls {
			if l.Line <= prev || len(l.Text) > FilePieceMax || l.Text == "" || l.inFile > l.Line {
				t.Fatalf("line %+v after line %d", l, prev)
			}
			prev = l.Line
		}
	})
}

// TestQuotedWhiteSpaceKept: white space inside double quotes, escaped or
// not, survives the trimming of the value and of its fields, as dnsmasq's
// hidden metacharacters do; outside quotes it is trimmed.
func TestQuotedWhiteSpaceKept(t *testing.T) {
	for in, want := range map[string]string{
		`cache-size="150\t"`:   "cache-size=150\t",
		"cache-size=\"150\t\"": "cache-size=150\t",
		`domain="lan\n"`:       "domain=lan\n",
		`domain="lan\r"`:       "domain=lan\r",
		"cache-size=150\t":     "cache-size=150",
	} {
		got, err := cleanLine(in)
		if err != nil || unquoter.Replace(got) != want {
			t.Errorf("cleanLine(%q) = %q, %v; want %q once unquoted", in, got, err, want)
		}
	}
	for _, bad := range []string{`cache-size="150\t"`, `domain="lan\t"`, `address="/x.test/1.2.3.4\t"`} {
		if _, err := ParseLines([]Line{{Text: bad}}); err == nil {
			t.Errorf("%s accepted; dnsmasq refuses it", bad)
		}
	}
}

// TestDashesOnlyOutsideFiles: "--name" is the command line's form, taken
// in a Caddyfile line and refused in a dnsmasq file, as dnsmasq does.
func TestDashesOnlyOutsideFiles(t *testing.T) {
	if _, err := ParseLines([]Line{{File: "Caddyfile", Line: 3, Text: "--cache-size=10"}}); err != nil {
		t.Errorf("Caddyfile line: %v", err)
	}
	ls, err := readConfLines(strings.NewReader("no-hosts\n--cache-size=10\n"), "main.conf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseLines(ls); err == nil || err.Error() != `dnsmasq: bad option at line 2 of main.conf: "--cache-size=10"` {
		t.Errorf("file line: %v", err)
	}
}
