package proxycache

import (
	"strings"
	"time"
)

// HTTP-dates (RFC 9110 §5.6.7) are parsed strictly: exactly one of the
// three forms, with the case, the spaces and the digits the grammar
// gives, and a date that exists. Go's http.ParseTime accepts more (one-digit
// hours, any-case names, other zones through time.Parse), and what a cache
// accepts beyond the grammar is what it disagrees with other caches on.
//
//	IMF-fixdate  = day-name "," SP date1 SP time-of-day SP GMT   Sun, 06 Nov 1994 08:49:37 GMT
//	rfc850-date  = day-name-l "," SP date2 SP time-of-day SP GMT Sunday, 06-Nov-94 08:49:37 GMT
//	asctime-date = day-name SP date3 SP time-of-day SP year      Sun Nov  6 08:49:37 1994

var (
	dayNames     = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	longDayNames = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	monthNames   = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// parseHTTPDate parses an HTTP-date in one of RFC 9110's three forms, the
// field value's surrounding whitespace aside. ok is false for anything
// else.
func parseHTTPDate(v string) (time.Time, bool) {
	v = strings.Trim(v, " \t")
	if len(v) < 3 {
		return time.Time{}, false
	}
	switch {
	case len(v) == len("Sun, 06 Nov 1994 08:49:37 GMT") && v[3] == ',':
		return parseIMFFixdate(v)
	case len(v) == len("Sun Nov  6 08:49:37 1994") && v[3] == ' ':
		return parseAsctime(v)
	}
	return parseRFC850(v)
}

// dateScanner reads fixed pieces of an HTTP-date; the first mismatch
// sticks.
type dateScanner struct {
	s   string
	bad bool
}

// lit consumes exactly lit.
func (d *dateScanner) lit(lit string) {
	if !strings.HasPrefix(d.s, lit) {
		d.bad = true
		return
	}
	d.s = d.s[len(lit):]
}

// digits consumes exactly n digits.
func (d *dateScanner) digits(n int) int {
	if len(d.s) < n {
		d.bad = true
		return 0
	}
	v := 0
	for i := range n {
		c := d.s[i]
		if c < '0' || c > '9' {
			d.bad = true
			return 0
		}
		v = v*10 + int(c-'0')
	}
	d.s = d.s[n:]
	return v
}

// name consumes one of names (case-sensitive) and returns its index.
func (d *dateScanner) name(names []string) int {
	for i, n := range names {
		if strings.HasPrefix(d.s, n) {
			d.s = d.s[len(n):]
			return i
		}
	}
	d.bad = true
	return 0
}

// timeOfDay consumes hour ":" minute ":" second, two digits each.
func (d *dateScanner) timeOfDay() (h, m, s int) {
	h = d.digits(2)
	d.lit(":")
	m = d.digits(2)
	d.lit(":")
	s = d.digits(2)
	return
}

// date builds the time, refusing out-of-range fields and days the month
// does not have (a leap second, 60, is accepted as RFC 9110 allows).
func (d *dateScanner) date(year, month, day, h, m, s int) (time.Time, bool) {
	if d.bad || d.s != "" || h > 23 || m > 59 || s > 60 || day < 1 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month+1), day, h, m, s, 0, time.UTC)
	if t.Day() != day && s != 60 {
		return time.Time{}, false // 31 Apr, 29 Feb 2023 ...
	}
	if s == 60 && time.Date(year, time.Month(month+1), day, 0, 0, 0, 0, time.UTC).Day() != day {
		return time.Time{}, false
	}
	return t, true
}

func parseIMFFixdate(v string) (time.Time, bool) {
	d := &dateScanner{s: v}
	d.name(dayNames)
	d.lit(", ")
	day := d.digits(2)
	d.lit(" ")
	month := d.name(monthNames)
	d.lit(" ")
	year := d.digits(4)
	d.lit(" ")
	h, m, s := d.timeOfDay()
	d.lit(" GMT")
	return d.date(year, month, day, h, m, s)
}

func parseRFC850(v string) (time.Time, bool) {
	d := &dateScanner{s: v}
	d.name(longDayNames)
	d.lit(", ")
	day := d.digits(2)
	d.lit("-")
	month := d.name(monthNames)
	d.lit("-")
	yy := d.digits(2)
	d.lit(" ")
	h, m, s := d.timeOfDay()
	d.lit(" GMT")
	// RFC 9110: a two-digit year more than 50 years in the future is the
	// most recent past year with those digits.
	now := time.Now().UTC().Year()
	year := now - now%100 + yy
	if year > now+50 {
		year -= 100
	}
	return d.date(year, month, day, h, m, s)
}

func parseAsctime(v string) (time.Time, bool) {
	d := &dateScanner{s: v}
	d.name(dayNames)
	d.lit(" ")
	month := d.name(monthNames)
	d.lit(" ")
	var day int
	if strings.HasPrefix(d.s, " ") {
		d.lit(" ")
		day = d.digits(1) // date3 = month SP ( 2DIGIT / ( SP DIGIT ))
	} else {
		day = d.digits(2)
	}
	d.lit(" ")
	h, m, s := d.timeOfDay()
	d.lit(" ")
	year := d.digits(4)
	return d.date(year, month, day, h, m, s)
}
