package conf

import (
	"slices"
	"strings"
	"testing"
)

func TestAtoiCheck(t *testing.T) {
	for in, want := range map[string]int32{"": 0, "0": 0, "17": 17, "99999999999": 1215752191, "4294967295": -1, "99999999999999999999999": -1} {
		if got, ok := atoiCheck(in); !ok || got != want {
			t.Errorf("atoiCheck(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"-1", "+1", " 1", "1x", "0x10"} {
		if _, ok := atoiCheck(in); ok {
			t.Errorf("atoiCheck(%q) passed", in)
		}
	}
}

func TestInetAton(t *testing.T) {
	for in, want := range map[string]string{"10.0.0": "10.0.0.0", "010.0.0.1": "8.0.0.1", "0x7f.1": "127.0.0.1", "167772161": "10.0.0.1", "1.2.3.4": "1.2.3.4", "10.65535": "10.0.255.255"} {
		if got, ok := inetAton(in); !ok || got.String() != want {
			t.Errorf("inetAton(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"1.2.3.4.5", "1.2.3.256", "", "a", "1..2", "09", "10.0.0.-1", "1.16777216"} {
		if got, ok := inetAton(in); ok {
			t.Errorf("inetAton(%q) = %v", in, got)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want []string
	}{
		{"a , b ,c", 2, []string{"a", "b ,c"}},
		{"a,,b,,c", 3, []string{"a", "", "b,,c"}},
		{"a,", 3, []string{"a", ""}},
		{"q\x00x,y", 2, []string{"q,x", "y"}},
	} {
		if got := splitArgs(c.in, c.n); !slices.Equal(got, c.want) {
			t.Errorf("splitArgs(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestParseHex(t *testing.T) {
	for in, want := range map[string]string{"0a0b0c": "\x0a\x0b\x0c", "a:bc-d ef": "\x0a\xbc\x0d\xef", "": "", "::": "", "abc": "\xab\x0c"} {
		if got, err := parseHex(in); err != nil || string(got) != want {
			t.Errorf("parseHex(%q) = %x, %v; want %x", in, got, err, want)
		}
	}
	if _, err := parseHex("0g"); err == nil {
		t.Error("parseHex(0g) passed")
	}
}

// TestCanonIsTrimLower: Canon gives what strings.ToLower(strings.Trim(s,
// ".")) gives, and Lower what strings.ToLower gives, for names in every case,
// with dots at the ends, non-ASCII bytes and the characters around 'A'
// and 'Z'.
func TestCanonIsTrimLower(t *testing.T) {
	for _, s := range []string{
		"", ".", "..", "example.com.", "Example.COM.", ".example.com", "..a..", "@[`{", "AZaz",
		"n42.upstream.bench.", "n42.upstream.benCh.", "abcdefgHijklmnop", "abcdefgh@ijklmno[", "abcdefgh`ijklmno{", "xn--bcher-kva.example.", "Bücher.example.", "\xff.example", "ÀÉ.", "a\x00B.",
	} {
		if got, want := Canon(s), strings.ToLower(strings.Trim(s, ".")); got != want {
			t.Errorf("Canon(%q) = %q, want %q", s, got, want)
		}
		if got, want := Lower(s), strings.ToLower(s); got != want {
			t.Errorf("Lower(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzCanon(f *testing.F) {
	f.Add("Example.COM.")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Canon(s), strings.ToLower(strings.Trim(s, ".")); got != want {
			t.Errorf("Canon(%q) = %q, want %q", s, got, want)
		}
		if got, want := Lower(s), strings.ToLower(s); got != want {
			t.Errorf("Lower(%q) = %q, want %q", s, got, want)
		}
	})
}
