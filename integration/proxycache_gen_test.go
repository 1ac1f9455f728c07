package integration

// The generator of TestProxyCacheGenerativeDiffNginx: an origin response
// recipe for one path and the requests sent for it (see
// proxycache_gendiff_test.go for the runner).

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// genLoc is a location of diffCacheNginx / diffCacheCaddyfile made for the
// generated cases, configured alike on both sides.
type genLoc string

const (
	// genLocDefault: nginx's defaults; frontdesk with revalidate off.
	genLocDefault genLoc = "g"
	// genLocRevalidate: proxy_cache_revalidate on; frontdesk's default.
	genLocRevalidate genLoc = "gr"
	// genLocValid: proxy_cache_valid any 1s; frontdesk valid any 1s,
	// revalidate off.
	genLocValid genLoc = "gv"
)

// genWait is the wait before a step marked so: longer than the 1 s
// lifetimes the generator writes (nginx counts them from the start of a
// second, so they last up to 2 s there), far shorter than the 60 s ones.
const genWait = 2200 * time.Millisecond

// genLastModified is the Last-Modified the generator writes, and the
// If-Modified-Since / If-Range dates it asks with.
const genLastModified = "Tue, 01 Jan 2019 00:00:00 GMT"

// genCase is one generated case: the origin's answer for one path (status,
// body size, response fields in order) and the requests sent for it.
type genCase struct {
	loc    genLoc
	status int
	size   int      // body bytes; -1 for the origin's default body
	fields []string // "Name: value"; {date±N} and {unix±N} are expanded by the origin
	steps  []genStep
}

// genStep is one request of a case.
type genStep struct {
	method string
	wait   bool     // wait genWait before sending
	hdr    []string // request fields, "Name: value"
}

// String is the case as the Go literal of the regression table.
func (c genCase) String() string {
	var b strings.Builder
	b.WriteString("{loc: " + strconv.Quote(string(c.loc)) + ", status: " + strconv.Itoa(c.status) +
		", size: " + strconv.Itoa(c.size) + ", fields: " + quoteList(c.fields) + ", steps: []genStep{")
	for i, s := range c.steps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("{" + strconv.Quote(s.method) + ", " + strconv.FormatBool(s.wait) + ", " + quoteList(s.hdr) + "}")
	}
	b.WriteString("}}")
	return b.String()
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

// target is the request URI of the case under the path name: the recipe in
// the query (the origin expands the times when it answers).
func (c genCase) target(name string) string {
	q := "status=" + strconv.Itoa(c.status)
	if c.size >= 0 {
		q += "&size=" + strconv.Itoa(c.size)
	}
	for _, f := range c.fields {
		k, v, _ := strings.Cut(f, ": ")
		q += "&h_" + k + "=" + url.QueryEscape(v)
	}
	return "/" + string(c.loc) + "/" + name + "?" + q
}

// expandTimes replaces {date+N} / {date-N} with the HTTP-date and
// {unix+N} / {unix-N} with the Unix time N seconds from now.
func expandTimes(v string, now time.Time) string {
	for _, kind := range []string{"{date", "{unix"} {
		i := strings.Index(v, kind)
		if i < 0 {
			continue
		}
		j := strings.IndexByte(v[i:], '}')
		n, _ := strconv.Atoi(strings.TrimPrefix(v[i+len(kind):i+j], "+"))
		t := now.Add(time.Duration(n) * time.Second)
		s := strconv.FormatInt(t.Unix(), 10)
		if kind == "{date" {
			s = t.UTC().Format(http.TimeFormat)
		}
		v = v[:i] + s + v[i+j+1:]
	}
	return v
}

// genStatuses are the origin's statuses, 200 weighted.
var genStatuses = []int{200, 200, 200, 200, 203, 204, 301, 302, 404, 410, 500, 502}

// genCacheControl are the Cache-Control directives a field is made of,
// with malformed forms: odd case, spaces, quotes, invalid numbers.
var genCacheControl = []string{
	"max-age=1", "max-age=60", "max-age=0", "s-maxage=1", "s-maxage=60",
	"no-cache", "no-store", "private", "public", "must-revalidate",
	"MAX-AGE=60", "Max-Age=1", "max-age = 60", `max-age="60"`, "max-age=abc", "max-age=-1",
	`no-cache="Set-Cookie"`, `private="X-Secret"`, "No-Store",
	"stale-while-revalidate=10", "stale-if-error=10", "proxy-revalidate", "immutable", "max-age=99999999999",
}

// genExpires are the Expires values: valid, past, invalid, 0, a one-digit day.
var genExpires = []string{"{date+60}", "{date-60}", "0", "tomorrow", "Sun, 6 Nov 2094 08:49:37 GMT"}

// genAccel are the X-Accel-Expires values: seconds, 0, @epoch, garbage.
var genAccel = []string{"1", "60", "0", "@{unix+60}", "@{unix-60}", "abc", "-5", "5s"}

// genRanges are satisfiable for every body the generator asks for (26 bytes
// and more), one or several.
var genRanges = []string{"bytes=0-4", "bytes=-3", "bytes=5-", "bytes=20-100", "bytes=0-1,4-5", "bytes=7-7"}

// genNotDrawn are the inputs generateCase never draws, each a documented
// difference (modules/proxycache/README.md, Differences); the test logs them.
var genNotDrawn = []string{
	"Last-Modified outside /gv/ (frontdesk caches heuristically, RFC 9111 §4.2.2; nginx does not; with valid any neither does)",
	"Cache-Control or Expires before X-Accel-Expires (nginx 1.22 reads the fields in order; X-Accel-Expires is written first)",
	"a Range without the origin's Accept-Ranges: bytes (nginx answers ranges only then; it is added when a step asks for one)",
	"Authorization and request Cache-Control (honoured here, ignored by nginx)",
	"If-Range with a weak tag (never matches here, compared as a string by nginx), unsatisfiable ranges on a miss (stored here)",
}

// generateCase draws one case, never an input of genNotDrawn.
func generateCase(r *rand.Rand) genCase {
	c := genCase{
		loc:    []genLoc{genLocDefault, genLocRevalidate, genLocValid}[r.IntN(3)],
		status: genStatuses[r.IntN(len(genStatuses))],
		size:   -1,
	}
	switch r.IntN(6) {
	case 0:
		c.size = 0
	case 1:
		c.size = 3000
	}
	c.fields = genFields(r, c.loc)
	c.steps = genSteps(r, c)
	if c.size != 0 && stepsAsk(c.steps, "Range") {
		c.fields = append(c.fields, "Accept-Ranges: bytes")
	}
	return c
}

// genFields draws the response fields, X-Accel-Expires first.
func genFields(r *rand.Rand, loc genLoc) []string {
	var f []string
	if r.IntN(4) == 0 {
		f = append(f, "X-Accel-Expires: "+genAccel[r.IntN(len(genAccel))])
	}
	if r.IntN(10) < 7 {
		f = append(f, "Cache-Control: "+genDirectives(r))
		if r.IntN(6) == 0 {
			f = append(f, "Cache-Control: "+genDirectives(r))
		}
	}
	if r.IntN(10) < 3 {
		f = append(f, "Expires: "+genExpires[r.IntN(len(genExpires))])
		if r.IntN(6) == 0 {
			f = append(f, "Expires: "+genExpires[r.IntN(len(genExpires))])
		}
	}
	if r.IntN(10) == 0 {
		f = append(f, "Date: "+[]string{"{date-120}", "{date+0}"}[r.IntN(2)])
	}
	if r.IntN(10) == 0 {
		f = append(f, "Age: "+[]string{"30", "120", "abc"}[r.IntN(3)])
	}
	if r.IntN(10) == 0 {
		f = append(f, "Set-Cookie: a=b")
	}
	if r.IntN(7) == 0 {
		f = append(f, "Vary: "+[]string{"X-V", "*"}[r.IntN(2)])
	}
	if r.IntN(5) < 2 {
		f = append(f, "ETag: "+[]string{`"v1"`, `W/"v1"`}[r.IntN(2)])
	}
	if loc == genLocValid && r.IntN(5) < 2 {
		f = append(f, "Last-Modified: "+genLastModified)
	}
	if r.IntN(2) == 0 {
		f = append(f, "Content-Type: text/plain")
	}
	return f
}

// genDirectives draws one Cache-Control value of one to three directives,
// joined with or without a space.
func genDirectives(r *rand.Rand) string {
	d := make([]string, 1+r.IntN(3))
	for i := range d {
		d[i] = genCacheControl[r.IntN(len(genCacheControl))]
	}
	return strings.Join(d, []string{", ", ",", " , "}[r.IntN(3)])
}

// genSteps draws two to five requests, at most two of them after a wait.
func genSteps(r *rand.Rand, c genCase) []genStep {
	steps := make([]genStep, 2+r.IntN(4))
	waits := 0
	for i := range steps {
		s := genStep{method: http.MethodGet}
		switch k := r.IntN(100); {
		case k < 12:
			s.method = http.MethodHead
		case k < 18 && i > 0:
			s.method = http.MethodPost
		case k < 33:
			s.hdr = []string{genConditional(r)}
		case k < 45 && c.size != 0:
			s.hdr = []string{"Range: " + genRanges[r.IntN(len(genRanges))]}
			if r.IntN(4) == 0 {
				s.hdr = append(s.hdr, []string{`If-Range: "v1"`, `If-Range: "v2"`, "If-Range: " + genLastModified}[r.IntN(3)])
			}
		}
		if r.IntN(4) == 0 {
			s.hdr = append(s.hdr, "X-V: "+[]string{"a", "b"}[r.IntN(2)])
		}
		if i > 0 && waits < 2 && r.IntN(10) < 3 {
			s.wait = true
			waits++
		}
		steps[i] = s
	}
	return steps
}

// genConditional draws If-None-Match or If-Modified-Since, matching the
// recipe's validators or not.
func genConditional(r *rand.Rand) string {
	return []string{
		`If-None-Match: "v1"`, `If-None-Match: W/"v1"`, `If-None-Match: "v2"`, "If-None-Match: *",
		"If-Modified-Since: " + genLastModified, "If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT",
		"If-Modified-Since: Mon, 01 Jan 2018 00:00:00 GMT",
	}[r.IntN(7)]
}

// stepsAsk reports whether a step sends the named request field.
func stepsAsk(steps []genStep, name string) bool {
	for _, s := range steps {
		for _, h := range s.hdr {
			if strings.HasPrefix(h, name+": ") {
				return true
			}
		}
	}
	return false
}
