package proxycache

import (
	"testing"
	"time"
)

// TestHTTPDateStrict: RFC 9110 §5.6.7's own examples of the three forms
// parse to the same instant; near misses (the flaws real servers send)
// do not.
func TestHTTPDateStrict(t *testing.T) {
	want := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	for _, v := range []string{
		"Sun, 06 Nov 1994 08:49:37 GMT",    // IMF-fixdate
		"Sunday, 06-Nov-94 08:49:37 GMT",   // obsolete RFC 850 format
		"Sun Nov  6 08:49:37 1994",         // ANSI C's asctime() format
		" Sun, 06 Nov 1994 08:49:37 GMT\t", // OWS around the field value is not part of it
		"Sun Nov 06 08:49:37 1994",         // date3's 2DIGIT form
	} {
		if got, ok := parseHTTPDate(v); !ok || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", v, got, ok, want)
		}
	}
	if got, ok := parseHTTPDate("Tue, 30 Jun 2015 23:59:60 GMT"); !ok || !got.Equal(time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("leap second: %v %v", got, ok)
	}
	for _, bad := range []string{
		"Sun, 06 Nov 1994 8:49:37 GMT",                   // one-digit hour
		"Sun, 6 Nov 1994 08:49:37 GMT",                   // one-digit day
		"Sun,  06 Nov 1994 08:49:37 GMT",                 // extra space
		"Sun, 06 Nov 1994  08:49:37 GMT",                 // extra space
		"Sun, 06 Nov 1994 08:49:37 gmt",                  // wrong-case zone
		"Sun, 06 Nov 1994 08:49:37 UTC",                  // another zone
		"Sun, 06 Nov 1994 08:49:37 +0000",                // a numeric zone
		"sun, 06 Nov 1994 08:49:37 GMT",                  // wrong-case day name
		"Sun, 06 nov 1994 08:49:37 GMT",                  // wrong-case month
		"Sun, 06 Nov 94 08:49:37 GMT",                    // two-digit year in IMF-fixdate
		"Sunday, 06-Nov-1994 08:49:37 GMT",               // four-digit year in RFC 850
		"Sun, 06-Nov-94 08:49:37 GMT",                    // short day name in RFC 850
		"Sun Nov 6 08:49:37 1994",                        // asctime with one space before a one-digit day
		"Sun Nov  6 08:49:37 1994 GMT",                   // asctime has no zone
		"Sun, 31 Apr 1994 08:49:37 GMT",                  // no such day
		"Sun, 29 Feb 2023 08:49:37 GMT",                  // not a leap year
		"Sun, 06 Nov 1994 24:00:00 GMT",                  // hour out of range
		"Sun, 06 Nov 1994 08:60:00 GMT",                  // minute out of range
		"Sun, 06 Nov 1994 08:49:37 GMT\r\n 08:49:37 GMT", // a folded line
		"0", "-1", "", "Sun, 06 Nov 1994",
	} {
		if got, ok := parseHTTPDate(bad); ok {
			t.Errorf("%q accepted as %v", bad, got)
		}
	}
}

// TestHTTPDateRFC850Century: RFC 9110 reads a two-digit year more than 50
// years ahead as the most recent past year with those digits.
func TestHTTPDateRFC850Century(t *testing.T) {
	now := time.Now().UTC().Year()
	ahead := (now + 49) % 100
	past := (now + 51) % 100
	for yy, want := range map[int]int{ahead: now + 49, past: now + 51 - 100} {
		v := time.Date(2000+yy, 1, 3, 0, 0, 0, 0, time.UTC).Format("Monday") + ", 03-Jan-" + twoDigits(yy) + " 00:00:00 GMT"
		got, ok := parseHTTPDate(v)
		if !ok || got.Year() != want {
			t.Errorf("%q: %v %v, want year %d", v, got, ok, want)
		}
	}
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Tue, 30 Jun 2015 23:59:60 GMT", "Sun, 06 Nov 1994 8:49:37 GMT", "0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := parseHTTPDate(v)
		if !ok {
			return
		}
		// Whatever parses is one of the three forms: its IMF-fixdate
		// rendering parses back to the same instant.
		back, ok := parseHTTPDate(got.Format("Mon, 02 Jan 2006 15:04:05 GMT"))
		if !ok || !back.Equal(got) {
			t.Fatalf("%q -> %v does not round-trip (%v %v)", v, got, back, ok)
		}
	})
}
