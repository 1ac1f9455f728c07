package ascii

import "testing"

func TestToLower(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := byte(c)
		if 'A' <= c && c <= 'Z' {
			want = byte(c) + 32
		}
		if got := ToLower(byte(c)); got != want {
			t.Errorf("ToLower(%#x) = %#x, want %#x", c, got, want)
		}
	}
}

func TestEqualFold(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"Keep-Alive", "keep-alive", true},
		{"WwW.ExAmPlE.", "www.example.", true},
		{"close", "closed", false},
		{"k", "\u212a", false}, // the Kelvin sign folds to k only in Unicode
		{"[", "{", false},      // 0x5b and 0x7b differ by 0x20 but are not letters
		{"é", "É", false},
	} {
		if got := EqualFold(tc.a, tc.b); got != tc.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
