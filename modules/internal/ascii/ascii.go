// Package ascii holds the ASCII-only case folding that HTTP field values
// and DNS names use: A-Z fold to a-z, every other byte stands for itself
// (unlike strings.EqualFold, which also folds Unicode, so that "K" (the
// Kelvin sign, U+212A) would equal "k").
package ascii

// ToLower is c with A-Z folded to a-z.
func ToLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	return c
}

// EqualFold reports whether a and b are the same but for the case of
// their ASCII letters.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if ToLower(a[i]) != ToLower(b[i]) {
			return false
		}
	}
	return true
}
