package conf

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// The primitives dnsmasq 2.90 reads option arguments with (option.c:
// split, atoi_check, canonicalise_opt; util.c: parse_hex). An option that
// reads its fields with them accepts exactly the lines dnsmasq accepts and
// gives them the same meaning: an empty numeric field is 0, an empty name is
// the root, and the last field an option reads holds the rest of the line.

// splitArgs splits an option value the way dnsmasq calls split() n-1
// times: at most n fields, the last holding the rest of the value, commas
// included. The white space around each comma it splits at is dropped;
// quoted commas and spaces (quotedComma, quotedSpace) are not separators
// and are restored in each field.
func splitArgs(val string, n int) []string {
	parts := strings.SplitN(val, ",", n)
	for i, p := range parts {
		parts[i] = unquoter.Replace(strings.Trim(p, " "))
	}
	return parts
}

// atoiCheck is dnsmasq's atoi_check: s must be digits only, and the empty
// string passes (as 0). The value is C's atoi: strtol saturating at
// LONG_MAX, truncated to a 32-bit int, so that 99999999999 reads as
// 1215752191 and 4294967295 as -1.
func atoiCheck(s string) (int32, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxInt64-9)/10 {
			v = math.MaxInt64
			continue
		}
		v = v*10 + uint64(c-'0')
	}
	return int32(uint32(v)), true
}

// atoiCheck16 is dnsmasq's atoi_check16: atoiCheck within 0..65535.
func atoiCheck16(s string) (uint16, bool) {
	n, ok := atoiCheck(s)
	if !ok || n < 0 || n > math.MaxUint16 {
		return 0, false
	}
	return uint16(n), true
}

// ownerName checks a name that owns a record, reading it like dnsmasq's
// canonicalise_opt: the empty name is the root (dnsmasq answers for "."),
// any other must be a valid name. It returns the name in canonical form.
func ownerName(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	return NameKey(s), ValidName(s)
}

// dataName checks a name carried in record data (a target or replacement)
// like dnsmasq's check_name: the empty name is the root; otherwise at most
// 1025 characters, one trailing dot dropped, labels of at most 63
// characters, no control characters and not only spaces. Any other
// character is allowed (a doubled comma can leave one in the name);
// presentation escapes it.
func dataName(s string) bool {
	if len(s) > 1025 {
		return false
	}
	s = strings.TrimSuffix(s, ".")
	label, blank := 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			label = 0
			continue
		case c < 0x20 || c == 0x7f:
			return false
		case c != ' ':
			blank = false
		}
		if label++; label > 63 {
			return false
		}
	}
	return s == "" || !blank
}

// parseHex is dnsmasq's parse_hex for dns-rr data: groups of hex digits
// separated by ':', '-' or ' '; each group is read two digits to a byte,
// an odd last digit making a byte of its own ("a:bc" is 0a bc).
func parseHex(s string) ([]byte, error) {
	var out []byte
	for _, g := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '-' || r == ' ' }) {
		for i := 0; i < len(g); i += 2 {
			end := min(i+2, len(g))
			var b byte
			for _, c := range []byte(g[i:end]) {
				d, ok := hexDigit(c)
				if !ok {
					return nil, errors.New("bad hex")
				}
				b = b<<4 | d
			}
			out = append(out, b)
		}
	}
	return out, nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// inetAton reads an IPv4 address as glibc's inet_aton does, which dnsmasq
// 2.90 reaches (through getaddrinfo) for a server= address that inet_pton
// refuses: one to four parts, each decimal, octal (a leading 0) or hex
// (0x), the last one filling the remaining bytes, so that "10.0.0" is
// 10.0.0.0, "010.0.0.1" 8.0.0.1 and "167772161" 10.0.0.1 (measured).
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		base := 10
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, p = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		n, err := strconv.ParseUint(p, base, 32)
		if err != nil || p == "" || p[0] == '+' {
			return netip.Addr{}, false
		}
		limit := uint64(0xff)
		if i == len(parts)-1 {
			limit = 1<<(8*(4-i)) - 1
		}
		if n > limit {
			return netip.Addr{}, false
		}
		if i == len(parts)-1 {
			v = v<<(8*(4-i)) | n
		} else {
			v = v<<8 | n
		}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// Canon lower-cases a domain and strips dots at its ends:
// strings.ToLower(strings.Trim(s, ".")), with nothing made for a name
// already in lower-case ASCII (every query's name, most of the time).
func Canon(s string) string {
	for len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	for len(s) > 0 && s[0] == '.' {
		s = s[1:]
	}
	return Lower(s)
}

// Lower is strings.ToLower(s), which for a name already in lower-case
// ASCII makes nothing but still looks at it a byte at a time with two
// tests; Lower looks 8 bytes at a time.
func Lower(s string) string {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if upperOrNonASCII8(s[i : i+8]) {
			return strings.ToLower(s)
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c-'A' < 'Z'-'A'+1 || c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
	}
	return s
}

// upperOrNonASCII8 reports whether one of the 8 bytes of b is an ASCII
// upper-case letter or not ASCII, all 8 at once: for a byte c below 0x80,
// c+0x3f has its top bit set when c >= 'A', and c+0x25 when c > 'Z'
// (neither sum carries into the next byte).
func upperOrNonASCII8(b string) bool {
	_ = b[7]
	x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	const ones, high = 0x0101010101010101, 0x8080808080808080
	return x&high != 0 || (x+(0x80-'A')*ones)&^(x+(0x80-'Z'-1)*ones)&high != 0
}

// ValidName reports whether s is a domain name dnsmasq accepts in a rule or
// record (check_name, through canonicalise): not empty, and as dataName
// reads a name. Spaces, slashes, commas and hashes are allowed: dnsmasq
// answers for such names (see NameKey).
func ValidName(s string) bool {
	return strings.Trim(s, ".") != "" && dataName(s)
}

// NameKey is the form of a configured name that the names of questions
// are compared with: Canon of the name as miekg/dns writes a name it
// unpacks from a question (a space, quote, '@', ';', parenthesis or
// backslash escaped with a backslash, a byte outside printable ASCII as
// \DDD). dnsmasq takes such names (check_name refuses only control
// characters and over-long labels) and answers for them; a plain name's
// key is Canon's.
func NameKey(s string) string {
	return Canon(escapeName(s))
}

// escapeName writes s with miekg/dns's escapes (see NameKey).
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case strings.IndexByte(` '@;()"\`, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ParseAddr reads an address as dnsmasq's inet_pton does: an IPv4 or IPv6
// address without a zone ("fe80::1%eth0" is a bad address everywhere but
// in server=, whose own reader takes the zone as the interface).
func ParseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err == nil && a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("address %q has a zone", s)
	}
	return a, err
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseType reads an RR type by name (MX) or number (15, TYPE15); white
// space kept by quotes makes it no type, as in dnsmasq.
func parseType(s string) (uint16, bool) {
	s = strings.ToUpper(s)
	if t, ok := dns.StringToType[s]; ok {
		return t, true
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "TYPE"), 10, 16)
	return uint16(n), err == nil && n > 0
}
