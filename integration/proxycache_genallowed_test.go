package integration

// The documented differences the generative proxy_cache tester allows, and
// its shrunk regression cases.

import (
	"net/http"
	"strings"
)

// genAllowed is a documented difference: frontdesk answers otherwise on
// purpose, and modules/proxycache/README.md (Differences) says why. A case's
// first differing step is matched against the entries; the later steps of
// that case are not compared, since the two caches then hold different
// things.
type genAllowed struct {
	name   string
	readme string // the README item
	// match reports whether step i's answers (nginx's, frontdesk's) of
	// case c are this difference.
	match func(c genCase, i int, ng, fd genAnswer) bool
}

// genAllowedDifferences is the table of documented differences.
var genAllowedDifferences = []genAllowed{
	{
		name: "accel-expires-past",
		readme: "X-Accel-Expires: a time in the past is stored only with a validator, already stale; " +
			"nginx stores it expired",
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return hasField(c, "X-Accel-Expires: @{unix-") && ng.cache == "EXPIRED" && ng.origin == fd.origin &&
				(fd.cache == "MISS" && ng.answer == fd.answer || fd.cache == "REVALIDATED")
		},
	},
	{
		name:   "range-cut-unstored",
		readme: "On a miss whose response turns out not to be storable, the client's range is still cut from the stream",
		match: func(c genCase, i int, ng, fd genAnswer) bool {
			return rangeCut(c, i, ng, fd) && ng.cache == fd.cache
		},
	},
	{
		name:   "conditional-unstored",
		readme: "A conditional request on a miss is answered 304 whether or not the response is stored",
		match: func(c genCase, i int, ng, fd genAnswer) bool {
			step := c.steps[i : i+1]
			return (stepsAsk(step, "If-None-Match") || stepsAsk(step, "If-Modified-Since")) && nginxRefuses(c) &&
				ng.cache == "MISS" && fd.cache != "HIT" && ng.origin == fd.origin &&
				strings.HasPrefix(ng.answer, "200 ") && strings.HasPrefix(fd.answer, "304 ")
		},
	},
	{
		name:   "if-modified-since-later",
		readme: "An If-Modified-Since later than Last-Modified gets 304 (RFC 9110 §13.1.3); nginx's if_modified_since exact sends the 200",
		match: func(c genCase, i int, ng, fd genAnswer) bool {
			return stepsAsk(c.steps[i:i+1], "If-Modified-Since") && hasField(c, "Last-Modified: ") &&
				!stepsAskValue(c.steps[i], "If-Modified-Since: "+genLastModified) &&
				ng.cache == fd.cache && ng.origin == fd.origin &&
				strings.HasPrefix(ng.answer, "200 ") && strings.HasPrefix(fd.answer, "304 ")
		},
	},
	{
		name: "stale-stored",
		readme: "A response whose freshness is invalid or zero (max-age=0, max-age=abc, -1, Expires: 0, " +
			"an invalid or past Expires) or that says no-cache is stored stale; nginx does not store it",
		match: func(c genCase, i int, ng, fd genAnswer) bool {
			stale := hasValue(c, "Cache-Control", "max-age=0", "max-age=abc", "max-age=-1", "no-cache") ||
				hasField(c, "Expires: ") && !hasField(c, "Expires: {date+")
			return stale && fd.cache != "HIT" && (storedHere(ng, fd) || ng.cache == "MISS" && rangeCut(c, i, ng, fd))
		},
	},
	{
		name:   "qualified-no-cache-private",
		readme: `no-cache="F" and private="F" store the response without F; nginx stores nothing`,
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return hasValue(c, "Cache-Control", `no-cache="`, `private="`) && storedHere(ng, fd)
		},
	},
	{
		name:   "quoted-delta",
		readme: `max-age="60" (the quoted form recipients accept, RFC 9111 §5.2) is read; nginx does not store it`,
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return hasValue(c, "Cache-Control", `="`) && storedHere(ng, fd)
		},
	},
	{
		name:   "cache-control-lines",
		readme: "Of a directive repeated on two Cache-Control lines the first counts; nginx 1.22 takes the last line's",
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return fieldCount(c, "Cache-Control") > 1 && ng.cache != fd.cache
		},
	},
	{
		name:   "two-expires-lines",
		readme: "Two Expires lines make the response stale (RFC 9111 §4.2.1 allows that or the first); nginx takes the first",
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return fieldCount(c, "Expires") > 1 && fd.cache != "HIT" &&
				(ng.cache == "HIT" && fd.origin == ng.origin+1 || storedHere(ng, fd))
		},
	},
	{
		name:   "revalidate-any-status",
		readme: "Any stored status with a validator is revalidated; nginx keeps validators only for 200 and 206",
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return c.status != http.StatusOK && ng.cache == "EXPIRED" && fd.cache == "REVALIDATED" && ng.origin == fd.origin
		},
	},
	{
		name:   "age-and-date",
		readme: "Age and Date count (RFC 9111 §4.2.3): an old response can be stale on arrival; nginx counts from its receipt",
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return (hasField(c, "Age: 30") || hasField(c, "Age: 120") || hasField(c, "Date: {date-")) &&
				ng.cache == "HIT" && (fd.cache == "EXPIRED" || fd.cache == "REVALIDATED") && fd.origin == ng.origin+1
		},
	},
	{
		name: "stale-while-revalidate",
		readme: "stale-while-revalidate serves the stale entry (STALE) and refreshes it in the background (RFC 5861); " +
			"nginx uses it only while another request updates the entry",
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			// The background refresh may have reached the origin or not.
			// nginx's MISS: it did not store a response stale on arrival
			// (stale-stored), which frontdesk serves within the window.
			return hasValue(c, "Cache-Control", "stale-while-revalidate=") && fd.cache == "STALE" &&
				(ng.cache == "EXPIRED" || ng.cache == "MISS" && nginxRefuses(c)) &&
				(fd.origin == ng.origin || fd.origin == ng.origin-1)
		},
	},
	{
		name:   "stale-if-error-status",
		readme: "stale-if-error also answers when the origin says 500, 502, 503 or 504 (RFC 5861 §4); nginx 1.22 sends the new answer",
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return hasValue(c, "Cache-Control", "stale-if-error=") && c.status >= 500 && fd.cache == "STALE" &&
				(ng.cache == "EXPIRED" || ng.cache == "MISS") && ng.origin == fd.origin
		},
	},
	{
		name:   "unsafe-invalidates",
		readme: "A successful POST invalidates the stored entry of its URI; nginx keeps it",
		match: func(c genCase, i int, ng, fd genAnswer) bool {
			posted := false
			for _, s := range c.steps[:i] {
				posted = posted || s.method == http.MethodPost
			}
			if !posted || c.status >= 400 || fd.cache != "MISS" {
				return false
			}
			switch ng.cache {
			case "HIT":
				return fd.origin == ng.origin+1
			case "EXPIRED":
				return ng.origin == fd.origin && ng.answer == fd.answer
			case "REVALIDATED":
				return ng.origin == fd.origin
			}
			return false
		},
	},
}

// stepsAskValue reports whether the step sends exactly this request field.
func stepsAskValue(s genStep, field string) bool {
	for _, h := range s.hdr {
		if h == field {
			return true
		}
	}
	return false
}

// storedHere reports whether the answers are those of a response frontdesk
// stored and nginx did not: nginx's MISS, and frontdesk's HIT, or its
// EXPIRED with the same answer and origin requests, or its REVALIDATED
// with the same origin requests (the stored body with a 304's header).
func storedHere(ng, fd genAnswer) bool {
	if ng.cache != "MISS" {
		return false
	}
	switch fd.cache {
	case "HIT":
		return fd.origin < ng.origin
	case "EXPIRED":
		return ng.origin == fd.origin && ng.answer == fd.answer
	case "REVALIDATED":
		return ng.origin == fd.origin
	}
	return false
}

// rangeCut reports whether step i asked for a range that frontdesk cut
// (206) from the response both fetched, where nginx sent the whole 200.
func rangeCut(c genCase, i int, ng, fd genAnswer) bool {
	return stepsAsk(c.steps[i:i+1], "Range") && ng.origin == fd.origin &&
		strings.HasPrefix(ng.answer, "200 ") && strings.HasPrefix(fd.answer, "206 ")
}

// nginxRefuses reports whether the recipe has a field that makes nginx 1.22
// refuse to cache the response as soon as it reads the header (which also
// turns its not_modified filter off): no-cache, no-store or private
// anywhere in Cache-Control, a max-age that is not a positive number, an
// invalid or past Expires, Set-Cookie, Vary: * or X-Accel-Expires: 0.
func nginxRefuses(c genCase) bool {
	return hasValue(c, "Cache-Control", "no-cache", "no-store", "private", "max-age=0", "max-age=abc", "max-age=-1", `max-age="`) ||
		hasField(c, "Expires: ") && !hasField(c, "Expires: {date+") ||
		hasField(c, "Set-Cookie: ") || hasField(c, "Vary: *") || hasField(c, "X-Accel-Expires: 0")
}

// hasValue reports whether a field of the recipe with that name holds one
// of the substrings, compared without case.
func hasValue(c genCase, name string, subs ...string) bool {
	for _, f := range c.fields {
		k, v, _ := strings.Cut(f, ": ")
		if k != name {
			continue
		}
		for _, sub := range subs {
			if strings.Contains(strings.ToLower(v), sub) {
				return true
			}
		}
	}
	return false
}

// fieldCount is how many fields of the recipe have that name.
func fieldCount(c genCase, name string) int {
	n := 0
	for _, f := range c.fields {
		if strings.HasPrefix(f, name+": ") {
			n++
		}
	}
	return n
}

// hasField reports whether the recipe has a field starting with prefix.
func hasField(c genCase, prefix string) bool {
	for _, f := range c.fields {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

// genRegression is a shrunk case the generator found, replayed every run.
type genRegression struct {
	name string
	// want is the genAllowedDifferences entry it must show, "" for
	// identical answers (a fixed bug).
	want string
	c    genCase
}

// genRegressions are the shrunk cases the generator found (seeds 1 to 8),
// with their verdicts: a fixed bug answers as nginx does, a deliberate
// difference shows its genAllowedDifferences entry.
var genRegressions = []genRegression{
	// Fixed: "max-age = 60" was read as max-age=60; nginx (and RFC 9111
	// §5.2's grammar) does not read it, so nothing is stored.
	{"whitespace-around-equals", "", genCase{loc: "g", status: 200, size: -1,
		fields: []string{"Cache-Control: must-revalidate , max-age = 60"},
		steps:  []genStep{{"GET", false, nil}, {"HEAD", false, nil}}}},
	// Fixed: If-None-Match: * did not match a response without an ETag
	// (RFC 9110 §13.1.2: any current representation), on a miss or a hit.
	{"inm-star-miss", "", genCase{loc: "g", status: 200, size: -1,
		steps: []genStep{{"GET", false, []string{"If-None-Match: *"}}}}},
	{"inm-star-hit", "", genCase{loc: "gv", status: 200, size: -1,
		steps: []genStep{{"GET", false, nil}, {"GET", false, []string{"If-None-Match: *"}}}}},
	// Fixed: the client's conditional, not sent on, went unanswered when
	// the response was not stored (no freshness here).
	{"conditional-on-unstored-miss", "", genCase{loc: "g", status: 200, size: -1,
		fields: []string{`ETag: "v1"`},
		steps:  []genStep{{"GET", false, []string{`If-None-Match: W/"v1"`}}}}},
	{"conditional-no-store", "conditional-unstored", genCase{loc: "g", status: 200, size: -1,
		fields: []string{"Cache-Control: no-store", `ETag: "v1"`},
		steps:  []genStep{{"GET", false, []string{`If-None-Match: "v1"`}}}}},
	{"expires-0-stored-stale", "stale-stored", genCase{loc: "gv", status: 200, size: -1,
		fields: []string{"Expires: 0", "Last-Modified: " + genLastModified},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	{"invalid-expires-conditional", "conditional-unstored", genCase{loc: "gv", status: 200, size: -1,
		fields: []string{"Expires: 6 Nov 2094 08:49:37 GMT", "Last-Modified: " + genLastModified},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, []string{"If-Modified-Since: " + genLastModified}}}}},
	{"no-cache-range", "stale-stored", genCase{loc: "gv", status: 200, size: -1,
		fields: []string{"Cache-Control: no-cache"},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, []string{"Range: bytes=7-7"}}}}},
	{"no-cache-qualified", "qualified-no-cache-private", genCase{loc: "gr", status: 200, size: -1,
		fields: []string{`Cache-Control: no-cache="Set-Cookie",MAX-AGE=60`},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	{"private-qualified", "qualified-no-cache-private", genCase{loc: "gv", status: 200, size: -1,
		fields: []string{`Cache-Control: private="X-Secret"`},
		steps:  []genStep{{"GET", false, nil}, {"GET", true, nil}}}},
	{"quoted-max-age", "quoted-delta", genCase{loc: "g", status: 200, size: -1,
		fields: []string{`Cache-Control: max-age="60"`},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	{"two-cache-control-lines", "cache-control-lines", genCase{loc: "g", status: 200, size: -1,
		fields: []string{"Cache-Control: max-age=1", "Cache-Control: max-age=60"},
		steps:  []genStep{{"GET", false, nil}, {"GET", true, nil}}}},
	{"post-invalidates-hit", "unsafe-invalidates", genCase{loc: "g", status: 200, size: -1,
		fields: []string{"Cache-Control: max-age=60"},
		steps:  []genStep{{"GET", false, nil}, {"POST", false, nil}, {"GET", false, nil}}}},
	{"post-invalidates-expired", "unsafe-invalidates", genCase{loc: "gv", status: 200, size: -1,
		steps: []genStep{{"HEAD", false, nil}, {"POST", true, nil}, {"GET", false, nil}}}},
	{"post-invalidates-revalidated", "unsafe-invalidates", genCase{loc: "gr", status: 200, size: -1,
		fields: []string{"Cache-Control: s-maxage=1", `ETag: "v1"`},
		steps:  []genStep{{"GET", false, nil}, {"POST", false, nil}, {"GET", true, nil}}}},
	{"accel-past", "accel-expires-past", genCase{loc: "g", status: 200, size: -1,
		fields: []string{"X-Accel-Expires: @{unix-60}", "Cache-Control: max-age=60"},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	{"accel-past-validator", "accel-expires-past", genCase{loc: "gr", status: 302, size: -1,
		fields: []string{"X-Accel-Expires: @{unix-60}", `ETag: "v1"`},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	{"revalidate-500", "revalidate-any-status", genCase{loc: "gr", status: 500, size: -1,
		fields: []string{"Cache-Control: Max-Age=1", `ETag: "v1"`},
		steps:  []genStep{{"HEAD", false, nil}, {"GET", true, nil}}}},
	{"if-modified-since-later", "if-modified-since-later", genCase{loc: "gv", status: 200, size: -1,
		fields: []string{"Last-Modified: " + genLastModified},
		steps:  []genStep{{"GET", false, []string{"If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT"}}}}},
	{"age-stale-on-arrival", "age-and-date", genCase{loc: "g", status: 200, size: -1,
		fields: []string{"Cache-Control: s-maxage=1", "Age: 30"},
		steps:  []genStep{{"GET", false, nil}, {"HEAD", false, nil}}}},
	{"old-date-stale-on-arrival", "age-and-date", genCase{loc: "gr", status: 200, size: -1,
		fields: []string{"Cache-Control: max-age=60", "Date: {date-120}"},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	{"stale-while-revalidate", "stale-while-revalidate", genCase{loc: "gv", status: 200, size: -1,
		fields: []string{"Cache-Control: stale-while-revalidate=10"},
		steps:  []genStep{{"GET", false, nil}, {"GET", true, nil}}}},
	{"stale-if-error-500", "stale-if-error-status", genCase{loc: "gv", status: 500, size: -1,
		fields: []string{"Cache-Control: stale-if-error=10"},
		steps:  []genStep{{"GET", false, nil}, {"GET", true, nil}}}},
	{"stale-if-error-stale-on-arrival", "stale-if-error-status", genCase{loc: "gv", status: 502, size: -1,
		fields: []string{"Cache-Control: stale-if-error=10,max-age=abc"},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	{"stale-on-arrival-while-revalidate", "stale-while-revalidate", genCase{loc: "gr", status: 200, size: -1,
		fields: []string{"Cache-Control: stale-while-revalidate=10", "Expires: 0", `ETag: "v1"`},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	// Written by hand: the generator draws two Expires lines (seed 10 on),
	// rarely without a Cache-Control that decides first.
	{"two-expires-lines", "two-expires-lines", genCase{loc: "g", status: 200, size: -1,
		fields: []string{"Expires: {date+60}", "Expires: {date+60}"},
		steps:  []genStep{{"GET", false, nil}, {"GET", false, nil}}}},
	{"range-no-store", "range-cut-unstored", genCase{loc: "g", status: 200, size: -1,
		fields: []string{"Cache-Control: no-store", "Accept-Ranges: bytes"},
		steps:  []genStep{{"GET", false, []string{"Range: bytes=0-4"}}}}},
}
