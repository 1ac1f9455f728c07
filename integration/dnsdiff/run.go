package dnsdiff

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Options of a run.
type Options struct {
	// Seed of the generator; the same seed asks the same questions.
	Seed uint64
	// Pairs is how many (configuration, query) pairs to ask.
	Pairs int
	// PerConfig is how many queries each configuration gets (default 100).
	PerConfig int
	// Shrink shrinks the first example of every new signature.
	Shrink bool
	// ShrinkBudget bounds the server runs of one shrink (default 400).
	ShrinkBudget int
	// RegressDir receives the shrunk cases (none written when empty).
	RegressDir string
	// Log receives progress lines (nil: none).
	Log io.Writer
	// Open maps the signatures of known, not yet fixed differences (open
	// regression cases, see OpenSignatures) to their case; such classes
	// are reported as open, not unexplained, and not shrunk again.
	Open map[string]string
}

// Class is the differences with one signature.
type Class struct {
	Signature string
	Count     int
	// Example is the first case that showed it, shrunk when the run shrinks.
	Example *Case
	// Detail is the example's difference.
	Detail string
	// Allowed is the documented entry that explains it, if any.
	Allowed *Allowed
	// Verified says how the example was shown to be the allowed
	// difference, when a run showed it rather than the entry's Match.
	Verified string
	// Open is the open regression case with this signature, if any.
	Open string
	// File is where the shrunk example was written.
	File string
}

// Report is what a run found.
type Report struct {
	Seed        uint64
	Pairs       int // queries asked of both servers
	Configs     int
	BothRefused int // configurations both servers refused (generator noise)
	Identical   int
	Classes     map[string]*Class
	Elapsed     time.Duration
}

// Unexplained is how many differences neither an allowed entry nor an open
// regression case covers.
func (r *Report) Unexplained() int { return unexplained(r.Classes) }

// KnownOpen is how many differences open regression cases cover.
func (r *Report) KnownOpen() int { return knownOpen(r.Classes) }

func unexplained(classes map[string]*Class) int {
	n := 0
	for _, c := range classes {
		if c.Allowed == nil && c.Open == "" {
			n += c.Count
		}
	}
	return n
}

func knownOpen(classes map[string]*Class) int {
	n := 0
	for _, c := range classes {
		if c.Allowed == nil && c.Open != "" {
			n += c.Count
		}
	}
	return n
}

// status is how a report labels a class.
func (c *Class) status() string {
	switch {
	case c.Allowed != nil && c.Verified != "":
		return "allowed: " + c.Allowed.Name + ", " + c.Verified
	case c.Allowed != nil:
		return "allowed: " + c.Allowed.Name
	case c.Open != "":
		return "open: " + c.Open
	}
	return "UNEXPLAINED"
}

// Run generates configurations and asks their queries of both servers until
// o.Pairs pairs were asked.
func Run(s *Servers, o Options) (*Report, error) {
	if o.PerConfig == 0 {
		o.PerConfig = 100
	}
	g := NewGenerator(o.Seed)
	rep := &Report{Seed: o.Seed, Classes: map[string]*Class{}}
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	for rep.Pairs < o.Pairs {
		c := g.Case(min(o.PerConfig, o.Pairs-rep.Pairs))
		rep.Configs++
		fresh, err := runCase(s, c, rep)
		if err != nil {
			// Not a refusal: a server did not start or reload in time (a
			// loaded machine); once more before giving up.
			if o.Log != nil {
				fmt.Fprintf(o.Log, "configuration %d: %v; trying again\n", rep.Configs, err)
			}
			fresh, err = runCase(s, c, rep)
		}
		if err != nil {
			return rep, fmt.Errorf("configuration %d:\n%s\n%w", rep.Configs, c.Marshal(), err)
		}
		for _, f := range fresh {
			if err := finishClass(s, o, f, rep); err != nil {
				return rep, err
			}
		}
		if o.Log != nil && rep.Configs%10 == 0 {
			el := time.Since(start)
			fmt.Fprintf(o.Log, "%d configurations, %d pairs, %.0f pairs/s, %d classes, %d unexplained\n",
				rep.Configs, rep.Pairs, float64(rep.Pairs)/el.Seconds(), len(rep.Classes), rep.Unexplained())
		}
	}
	return rep, nil
}

// newClass is a signature seen first in this configuration, with the case
// that shows it (the configuration and its queries up to the one that
// differed).
type newClass struct {
	class *Class
	c     *Case
}

// runCase asks c's queries of both servers and counts the differences; it
// returns the signatures not seen before.
func runCase(s *Servers, c *Case, rep *Report) ([]newClass, error) {
	var fresh []newClass
	note := func(sig, detail string, upto int) {
		cl := rep.Classes[sig]
		if cl == nil {
			cl = &Class{Signature: sig, Detail: detail}
			rep.Classes[sig] = cl
			ex := c.Clone()
			ex.Queries = ex.Queries[:upto]
			fresh = append(fresh, newClass{cl, ex})
		}
		cl.Count++
	}
	if err := s.Load(c); err != nil {
		o, err := loadOutcome(err)
		if err != nil {
			return nil, err
		}
		if o.Signature == sigBothRefused {
			rep.BothRefused++
			return nil, nil
		}
		note(o.Signature, o.Detail, 0)
		return fresh, nil
	}
	for i, q := range c.Queries {
		want, got := ask(s, q)
		rep.Pairs++
		d := Compare(want, got)
		if d == nil {
			rep.Identical++
			continue
		}
		note(d.Signature, fmt.Sprintf("query %s\n%s", q, d.Detail), i+1)
	}
	return fresh, nil
}

// finishClass shrinks a new class's example (when asked to), writes it, and
// looks the class up among the allowed differences.
func finishClass(s *Servers, o Options, f newClass, rep *Report) error {
	f.class.Example = f.c
	f.c.Note = []string{fmt.Sprintf("found by dnsdiff -seed %d (configuration %d)", o.Seed, rep.Configs)}
	f.class.Open = o.Open[f.class.Signature]
	if o.Shrink && f.class.Open == "" {
		sh := &Shrinker{S: s, Budget: o.ShrinkBudget}
		small, out, err := sh.Shrink(f.c, f.class.Signature)
		switch {
		case err != nil:
			if o.Log != nil {
				fmt.Fprintf(o.Log, "shrinking %q: %v\n", f.class.Signature, err)
			}
			if err := writeUnshrunk(o.RegressDir, f); err != nil {
				return err
			}
		case err == nil:
			small.Note = append(f.c.Note, fmt.Sprintf("shrunk in %d runs", sh.runs))
			f.class.Example = small
			f.class.Detail = out.Detail
			if o.RegressDir != "" {
				p, err := WriteCase(o.RegressDir, small)
				if err != nil {
					return err
				}
				f.class.File = p
			}
		}
	}
	f.class.Allowed = allowedFor(AllowedDifferences, f.class.Example, f.class.Signature)
	if f.class.Allowed == nil && !strings.HasPrefix(f.class.Signature, "load ") {
		if err := verifyAllowed(s, f.class); err != nil {
			return err
		}
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "new difference %q:\n%s\n", f.class.Signature, indentText(f.class.Example.Marshal()+f.class.Detail))
	}
	return nil
}

// runVerified are the allowed differences a run must show: each entry's
// check runs the class's example again (without its cache-size line, or a
// few more times), and what it showed is the class's Verified note.
var runVerified = []struct {
	name, verified string
	check          func(s *Servers, c *Case, sig string) (bool, error)
}{
	{"small-cache-eviction", "identical with the default cache-size",
		func(s *Servers, c *Case, _ string) (bool, error) { return EvictionOnly(s, c) }},
	{"one-second-ttl-boundary", fmt.Sprintf("did not recur in %d runs", boundaryReplays), BoundaryOnly},
	{"tcp-child-cache-timing", fmt.Sprintf("did not recur in %d runs", boundaryReplays),
		func(s *Servers, c *Case, _ string) (bool, error) { return TCPTimingOnly(s, c) }},
}

// verifyAllowed gives cl the first runVerified entry its example shows.
func verifyAllowed(s *Servers, cl *Class) error {
	for _, v := range runVerified {
		ok, err := v.check(s, cl.Example, cl.Signature)
		if err != nil {
			return err
		}
		if ok {
			cl.Allowed, cl.Verified = allowedByName(AllowedDifferences, v.name), v.verified
			return nil
		}
	}
	return nil
}

// writeUnshrunk writes the whole example of a class the shrinker could
// not reproduce to dir/unshrunk (not replayed by the test suite: the
// example did not answer the same way twice), so that -replay -explain can
// look at it with every query it asked.
func writeUnshrunk(dir string, f newClass) error {
	if dir == "" {
		return nil
	}
	p, err := WriteCase(filepath.Join(dir, unshrunkDir), f.c)
	if err != nil {
		return err
	}
	f.class.File = p
	return nil
}

// unshrunkDir is the subdirectory of the regression directory for the
// examples the shrinker could not reproduce.
const unshrunkDir = "unshrunk"

// Print writes the report: seed, pairs, configurations, rate, and each class
// with its example.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "dnsdiff: seed %d, %d pairs in %d configurations (%d refused by both), %s, %.1f pairs/s\n",
		r.Seed, r.Pairs, r.Configs, r.BothRefused, r.Elapsed.Round(time.Second), float64(r.Pairs)/r.Elapsed.Seconds())
	fmt.Fprintf(w, "identical %d, differences %d (unexplained %d, open %d) in %d classes\n",
		r.Identical, r.Pairs-r.Identical, r.Unexplained(), r.KnownOpen(), len(r.Classes))
	classes := make([]*Class, 0, len(r.Classes))
	for _, c := range r.Classes {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool { return classes[i].Count > classes[j].Count })
	for _, c := range classes {
		fmt.Fprintf(w, "\n== %d× %s [%s]\n", c.Count, c.Signature, c.status())
		if c.File != "" {
			fmt.Fprintf(w, "   case file: %s\n", c.File)
		}
		ex := c.Example
		if ex == nil { // the run ended before the class was written down
			fmt.Fprint(w, indentText(c.Detail))
			continue
		}
		if n := len(ex.Queries); n > maxPrintedQueries {
			ex = ex.Clone()
			ex.Queries = ex.Queries[n-maxPrintedQueries:]
			ex.Note = append(ex.Note, fmt.Sprintf("(%d earlier queries not shown)", n-maxPrintedQueries))
		}
		fmt.Fprint(w, indentText(ex.Marshal()+c.Detail))
	}
}

// maxPrintedQueries is how many of an unshrunk example's queries a report
// shows (the last ones).
const maxPrintedQueries = 5

func indentText(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("   | " + l + "\n")
	}
	return b.String()
}
