package integration

// The documented differences the generative proxy_cache tester allows, and
// its shrunk regression cases.

import (
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
		name:   "accel-expires-past",
		readme: "X-Accel-Expires: a time in the past is not stored; nginx stores it already expired",
		match: func(c genCase, _ int, ng, fd genAnswer) bool {
			return hasField(c, "X-Accel-Expires: @{unix-") && ng.cache == "EXPIRED" && fd.cache == "MISS" &&
				ng.answer == fd.answer && ng.origin == fd.origin
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
