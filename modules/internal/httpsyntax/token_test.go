package httpsyntax

import (
	"strings"
	"testing"
)

// rfcTchar is RFC 9110's tchar spelled out, the reference IsTokenChar must match.
const rfcTchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

func TestIsTokenCharMatchesRFC(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := strings.IndexByte(rfcTchar, byte(c)) >= 0
		if got := IsTokenChar(byte(c)); got != want {
			t.Errorf("IsTokenChar(%#x) = %v, want %v", c, got, want)
		}
	}
}

func TestIsToken(t *testing.T) {
	for s, want := range map[string]bool{
		"":                  false,
		"X-Real-IP":         true,
		"GET":               true,
		"CDN-Cache-Control": true,
		"no cache":          false,
		"a,b":               false,
		"é":                 false,
		"max-age=1":         false,
	} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, got, want)
		}
	}
}
