// Package httpsyntax holds the pieces of RFC 9110's grammar that several
// modules check: what a token is (a field name, a method, a directive name).
package httpsyntax

// tokenDelimiters are the visible ASCII characters that are not tchar
// (RFC 9110 §5.6.2).
const tokenDelimiters = "\"(),/:;<=>?@[\\]{}"

// tchar[c] is whether the byte c is a tchar; a table, because header
// parsing asks it for every byte of a field on the request path.
var tchar = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = true
	}
	for i := 0; i < len(tokenDelimiters); i++ {
		t[tokenDelimiters[i]] = false
	}
	return t
}()

// IsTokenChar reports whether c is an RFC 9110 tchar:
//
//	tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//	        "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
func IsTokenChar(c byte) bool { return tchar[c] }

// IsToken reports whether s is an RFC 9110 token: one or more tchar.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}
