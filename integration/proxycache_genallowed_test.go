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
			return stepsAsk(c.steps[i:i+1], "Range") && ng.cache == fd.cache && ng.origin == fd.origin &&
				strings.HasPrefix(ng.answer, "200 ") && strings.HasPrefix(fd.answer, "206 ")
		},
	},
	{
		name: "stale-stored",
		readme: "A response whose freshness is invalid or zero (max-age=0, max-age=abc, -1, Expires: 0, " +
			"an invalid or past Expires) or that says no-cache is stored stale; nginx does not store it",
		match: func(c genCase, i int, ng, fd genAnswer) bool {
			stale := hasValue(c, "Cache-Control", "max-age=0", "max-age=abc", "max-age=-1", "no-cache") ||
				hasField(c, "Expires: ") && !hasField(c, "Expires: {date+")
			return stale && (storedHere(ng, fd) && fd.cache != "HIT" || conditionalFromStored(c, i, ng, fd))
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
		name:   "unsafe-invalidates",
		readme: "A successful POST invalidates the stored entry of its URI; nginx keeps it",
		match: func(c genCase, i int, ng, fd genAnswer) bool {
			posted := false
			for _, s := range c.steps[:i] {
				posted = posted || s.method == http.MethodPost
			}
			return posted && c.status < 400 && fd.cache == "MISS" &&
				(ng.cache == "HIT" && fd.origin == ng.origin+1 || ng.cache == "EXPIRED" && ng.origin == fd.origin && ng.answer == fd.answer)
		},
	},
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

// conditionalFromStored reports whether step i is a conditional request
// that nginx answered with the origin's 200 of a response it did not store
// (its not_modified filter skips those), and frontdesk, storing the same
// response, answered 304, with the same origin requests.
func conditionalFromStored(c genCase, i int, ng, fd genAnswer) bool {
	step := c.steps[i : i+1]
	return (stepsAsk(step, "If-None-Match") || stepsAsk(step, "If-Modified-Since")) &&
		ng.cache == "MISS" && fd.cache != "HIT" && ng.origin == fd.origin &&
		strings.HasPrefix(ng.answer, "200 ") && strings.HasPrefix(fd.answer, "304 ")
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

// genRegressions are the shrunk cases, with what each found.
var genRegressions = []genRegression{}
