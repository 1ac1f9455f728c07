package headerpolicy

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/httpsyntax"
)

// el builds a ForwardedElement from name, value, name, value, ...
func el(nv ...string) ForwardedElement {
	var e ForwardedElement
	for i := 0; i+1 < len(nv); i += 2 {
		e = append(e, ForwardedPair{Name: nv[i], Value: nv[i+1]})
	}
	return e
}

func TestParseForwarded(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []ForwardedElement
	}{
		// RFC 7239 section 4.
		{"rfc4 obfuscated", `for="_gazonk"`, []ForwardedElement{el("for", "_gazonk")}},
		{"rfc4 ipv6 with port, mixed-case name", `For="[2001:db8:cafe::17]:4711"`,
			[]ForwardedElement{el("for", "[2001:db8:cafe::17]:4711")}},
		{"rfc4 three pairs", `for=192.0.2.60;proto=http;by=203.0.113.43`,
			[]ForwardedElement{el("for", "192.0.2.60", "proto", "http", "by", "203.0.113.43")}},
		{"rfc4 two elements", `for=192.0.2.43, for=198.51.100.17`,
			[]ForwardedElement{el("for", "192.0.2.43"), el("for", "198.51.100.17")}},
		// RFC 7239 section 6.
		{"rfc6 ipv6 node", `for="[2001:db8:cafe::17]:47011"`,
			[]ForwardedElement{el("for", "[2001:db8:cafe::17]:47011")}},
		{"rfc6 obfuscated identifiers", `for=_hidden, for=_SEVKISEK`,
			[]ForwardedElement{el("for", "_hidden"), el("for", "_SEVKISEK")}},
		// RFC 7239 section 7.
		{"rfc7 list without spaces", `for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown`,
			[]ForwardedElement{el("for", "192.0.2.43"), el("for", "[2001:db8:cafe::17]"), el("for", "unknown")}},
		{"rfc7 list with spaces", `for=192.0.2.43, for="[2001:db8:cafe::17]", for=unknown`,
			[]ForwardedElement{el("for", "192.0.2.43"), el("for", "[2001:db8:cafe::17]"), el("for", "unknown")}},
		{"rfc7 for and by", `for=192.0.2.43;by=_hidden;host=example.com;proto=https`,
			[]ForwardedElement{el("for", "192.0.2.43", "by", "_hidden", "host", "example.com", "proto", "https")}},

		// Names are case-insensitive and lower-cased; values are kept as sent.
		{"upper-case names", `FOR=Foo;PROTO=HTTPS`, []ForwardedElement{el("for", "Foo", "proto", "HTTPS")}},
		// Quoted strings and quoted pairs.
		{"quoted-pair escapes", `for="a\"b\\c\d"`, []ForwardedElement{el("for", `a"b\cd`)}},
		{"escaped space and tab", "x=\"a\\ b\\\tc\"", []ForwardedElement{el("x", "a b\tc")}},
		{"empty quoted value", `for=""`, []ForwardedElement{el("for", "")}},
		{"separators inside quotes", `host="a,b;c=d"`, []ForwardedElement{el("host", "a,b;c=d")}},
		{"obs-text inside quotes", "x=\"caf\xc3\xa9\"", []ForwardedElement{el("x", "caf\xc3\xa9")}},
		// Empty list members and empty pairs are skipped.
		{"empty string", ``, nil},
		{"only whitespace", " \t ", nil},
		{"only commas", ` , ,, `, nil},
		{"only semicolons", `;;`, nil},
		{"empty list members", `, for=a,, for=b ,`, []ForwardedElement{el("for", "a"), el("for", "b")}},
		{"empty pairs", `;for=a;;proto=http;`, []ForwardedElement{el("for", "a", "proto", "http")}},
		{"whitespace around separators", "for=a ;\tproto=http , for=b", []ForwardedElement{el("for", "a", "proto", "http"), el("for", "b")}},
		// The same parameter may occur in different elements.
		{"same name in two elements", `for=a,for=a`, []ForwardedElement{el("for", "a"), el("for", "a")}},
		{"unknown extension parameter", `secret=xyz;for=a`, []ForwardedElement{el("secret", "xyz", "for", "a")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseForwarded(tt.in)
			if err != nil {
				t.Fatalf("ParseForwarded(%q): unexpected error %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseForwarded(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseForwardedErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"unterminated quote", `for="192.0.2.1`, "forwarded: unterminated quoted-string"},
		{"unterminated quote after pair", `for=a;by="x, for=b`, "forwarded: unterminated quoted-string"},
		{"quoted-pair at end", `for="abc\`, "forwarded: quoted-pair at end of input"},
		{"invalid escaped byte", "for=\"a\\\x7f\"", "forwarded: invalid escaped byte 0x7f"},
		{"control byte in quoted-string", "for=\"a\x00b\"", "forwarded: invalid byte 0x00 in quoted-string"},
		{"newline in quoted-string", "for=\"a\nb\"", "forwarded: invalid byte 0x0a in quoted-string"},
		{"repeated parameter", `for=a;for=b`, `forwarded: parameter "for" repeated in one element`},
		{"repeated parameter, other case", `proto=http;by=x;PROTO=https`, `forwarded: parameter "proto" repeated in one element`},
		{"missing value", `for=`, `forwarded: parameter "for" has an empty value`},
		{"missing value before semicolon", `for=;proto=http`, `forwarded: parameter "for" has an empty value`},
		{"missing equals", `for`, `forwarded: parameter "for" has no value`},
		{"missing equals before semicolon", `for;proto=http`, `forwarded: parameter "for" has no value`},
		{"space before equals", `for =a`, `forwarded: parameter "for" has no value`},
		{"space after equals", `for= a`, `forwarded: parameter "for" has an empty value`},
		{"missing name", `=a`, "forwarded: expected a parameter name at offset 0"},
		{"garbage", `@@@`, "forwarded: expected a parameter name at offset 0"},
		{"garbage after element", `for=a b`, `forwarded: unexpected 'b' at offset 6`},
		{"quote after token", `for=a"b"`, `forwarded: unexpected '"' at offset 5`},
		{"token after quoted-string", `for="a"b`, `forwarded: unexpected 'b' at offset 7`},
		{"non-token name", `f(o)r=a`, "forwarded: parameter \"f\" has no value"},
		{"bad second element", `for=a, =b`, "forwarded: expected a parameter name at offset 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseForwarded(tt.in)
			if err == nil {
				t.Fatalf("ParseForwarded(%q) = %#v, want error %q", tt.in, got, tt.wantErr)
			}
			if got != nil {
				t.Errorf("ParseForwarded(%q) returned elements %#v along with error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseForwarded(%q) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestForwardedElementString(t *testing.T) {
	tests := []struct {
		name string
		el   ForwardedElement
		want string
	}{
		{"empty element", nil, ""},
		{"tokens stay bare", el("for", "192.0.2.60", "proto", "http", "by", "203.0.113.43"), "for=192.0.2.60;proto=http;by=203.0.113.43"},
		{"ipv6 node is quoted", el("for", "[2001:db8:cafe::17]:4711"), `for="[2001:db8:cafe::17]:4711"`},
		{"host with port is quoted", el("host", "example.com:8080"), `host="example.com:8080"`},
		{"empty value is quoted", el("for", ""), `for=""`},
		{"quote and backslash escaped", el("x", `a"b\c`), `x="a\"b\\c"`},
		{"separators quoted", el("x", "a, b;c"), `x="a, b;c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.el.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			if tt.el == nil {
				return
			}
			back, err := ParseForwarded(tt.want)
			if err != nil {
				t.Fatalf("ParseForwarded(%q): %v", tt.want, err)
			}
			if !reflect.DeepEqual(back, []ForwardedElement{tt.el}) {
				t.Fatalf("ParseForwarded(%q) = %#v, want %#v", tt.want, back, []ForwardedElement{tt.el})
			}
		})
	}
}

func TestForwardedNode(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::1", "[::1]"},
		{"2001:db8:cafe::17", "[2001:db8:cafe::17]"},
	}
	for _, tt := range tests {
		if got := forwardedNode(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("forwardedNode(%s) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

// FuzzParseForwarded checks that the parser never panics and that whatever it
// accepts survives a format/parse round trip unchanged.
func FuzzParseForwarded(f *testing.F) {
	for _, s := range []string{
		`for="_gazonk"`,
		`For="[2001:db8:cafe::17]:4711"`,
		`for=192.0.2.60;proto=http;by=203.0.113.43`,
		`for=192.0.2.43, for=198.51.100.17`,
		`for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown`,
		`for="a\"b\\c"`,
		"x=\"a\\ b\\\tc\"",
		`, for=a,, for=b ,`,
		`;for=a;;proto=http;`,
		`for=""`,
		`host="a,b;c=d"`,
		"x=\"caf\xc3\xa9\"",
		`for="192.0.2.1`,
		`for="abc\`,
		`for=a;for=b`,
		`for=`,
		`for`,
		`@@@`,
		`for=a b`,
		"for=\"a\x00b\"",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		els, err := ParseForwarded(s)
		if err != nil {
			if els != nil {
				t.Fatalf("ParseForwarded(%q) returned %#v with error %v", s, els, err)
			}
			return
		}
		parts := make([]string, len(els))
		for i, e := range els {
			if len(e) == 0 {
				t.Fatalf("ParseForwarded(%q) returned an empty element", s)
			}
			seen := map[string]bool{}
			for _, p := range e {
				if p.Name == "" || p.Name != strings.ToLower(p.Name) || !httpsyntax.IsToken(p.Name) {
					t.Fatalf("ParseForwarded(%q): bad parameter name %q", s, p.Name)
				}
				if seen[p.Name] {
					t.Fatalf("ParseForwarded(%q): parameter %q repeated", s, p.Name)
				}
				seen[p.Name] = true
			}
			parts[i] = e.String()
		}
		formatted := strings.Join(parts, ", ")
		again, err := ParseForwarded(formatted)
		if err != nil {
			t.Fatalf("ParseForwarded(%q) ok, but its re-formatting %q fails: %v", s, formatted, err)
		}
		if !reflect.DeepEqual(els, again) {
			t.Fatalf("round trip of %q via %q: got %#v, want %#v", s, formatted, again, els)
		}
	})
}
