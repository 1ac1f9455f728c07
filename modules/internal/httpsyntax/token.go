// Package httpsyntax holds the pieces of RFC 9110's grammar that several
// modules check: what a token is (a field name, a method, a directive name).
package httpsyntax

// tokenDelimiters are the visible ASCII characters that are not tchar
// (RFC 9110 §5.6.2).
const tokenDelimiters = "\"(),/:;<=>?@[\\]{}"

// IsTokenChar reports whether c is an RFC 9110 tchar:
//
//	tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//	        "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
func IsTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	for i := 0; i < len(tokenDelimiters); i++ {
		if c == tokenDelimiters[i] {
			return false
		}
	}
	return true
}

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
