package dnsdiff

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Outcome is what a case showed when both servers ran it.
type Outcome struct {
	// Signature of the first difference ("" when none).
	Signature string
	// Query is the index of the query that differed (-1 for a load difference
	// or none).
	Query int
	// Detail of the difference, for a human.
	Detail string
	// Want is dnsmasq's answer to that query.
	Want Answer
}

// Load difference signatures.
const (
	sigDnsmasqRefused   = "load dnsmasq refused"
	sigFrontdeskRefused = "load frontdesk refused"
	// sigBothRefused is no difference: both servers refused the configuration.
	sigBothRefused = "load both refused"
)

// Check loads c on both servers and asks its queries in order, stopping at
// the first difference, or at the first with signature stop when stop is not
// empty. Both servers refusing the configuration is an error.
func Check(s *Servers, c *Case, stop string) (Outcome, error) {
	if err := s.Load(c); err != nil {
		return loadOutcome(err)
	}
	first := Outcome{Query: -1}
	for i, q := range c.Queries {
		want, got := ask(s, q)
		d := Compare(want, got)
		if d == nil || (stop != "" && d.Signature != stop) {
			if d != nil && first.Signature == "" {
				first = Outcome{d.Signature, i, d.Detail, want}
			}
			continue
		}
		return Outcome{d.Signature, i, d.Detail, want}, nil
	}
	if stop != "" {
		return first, nil
	}
	return Outcome{Query: -1}, nil
}

// Replay runs a regression case: it returns the first difference (an empty
// Signature when there is none) and dnsmasq's answer to the last query.
func Replay(s *Servers, c *Case) (Outcome, Answer, error) {
	if err := s.Load(c); err != nil {
		o, err := loadOutcome(err)
		if o.Signature == sigBothRefused {
			o.Signature = ""
		}
		return o, Answer{}, err
	}
	var last Answer
	first := Outcome{Query: -1}
	for i, q := range c.Queries {
		want, got := ask(s, q)
		last = want
		if d := Compare(want, got); d != nil && first.Signature == "" {
			first = Outcome{d.Signature, i, d.Detail, want}
		}
	}
	return first, last, nil
}

// ask puts q to dnsmasq, then to Frontdesk: within one second of the
// clock when the case counts TTLs of a second (see clearOfSecond).
func ask(s *Servers, q Query) (want, got Answer) {
	if s.clock {
		clearOfSecond(time.Now())
	}
	return s.Ask(Dnsmasq, q), s.Ask(Frontdesk, q)
}

// secondGuard is how close to the next second a question pair is not
// begun: both servers count TTLs in whole seconds (time(2)), and a record
// of a second's TTL that expires between dnsmasq's answer and Frontdesk's,
// a few milliseconds later, makes them answer otherwise (upstream again,
// or a chain cut where the other still had it).
const secondGuard = 15 * time.Millisecond

// clearOfSecond waits, when now is within secondGuard of the next second,
// until that second has begun.
func clearOfSecond(now time.Time) {
	if left := now.Truncate(time.Second).Add(time.Second).Sub(now); left < secondGuard {
		time.Sleep(left + time.Millisecond)
	}
}

// secondTTLs reports whether c counts down TTLs of at most a second: a
// record of its upstream zone, or a max-ttl, max-cache-ttl or neg-ttl of 0
// or 1.
func secondTTLs(c *Case) bool {
	if shortTTLZone(c) {
		return true
	}
	for _, l := range c.Config {
		switch optionName(l) {
		case "max-ttl", "max-cache-ttl", "neg-ttl":
			_, v, _ := strings.Cut(l, "=")
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n <= 1 {
				return true
			}
		}
	}
	return false
}

func loadOutcome(err error) (Outcome, error) {
	var refused [2]string
	for _, e := range unjoin(err) {
		var le *LoadError
		if !errors.As(e, &le) {
			return Outcome{}, err
		}
		refused[le.Side] = le.Msg
	}
	switch {
	case refused[Dnsmasq] != "" && refused[Frontdesk] != "":
		return Outcome{Signature: sigBothRefused, Query: -1, Detail: "dnsmasq: " + refused[Dnsmasq] + "\nfrontdesk: " + refused[Frontdesk]}, nil
	case refused[Dnsmasq] != "":
		return Outcome{Signature: sigDnsmasqRefused, Query: -1, Detail: "dnsmasq: " + refused[Dnsmasq]}, nil
	default:
		return Outcome{Signature: sigFrontdeskRefused, Query: -1, Detail: "frontdesk: " + refused[Frontdesk]}, nil
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Shrinker reduces a failing case, keeping its signature, within a budget of
// runs of both servers.
type Shrinker struct {
	S      *Servers
	Budget int // runs; 0 = 400
	runs   int
}

// Shrink returns the smallest case found that still shows sig: the queries
// first (the one that differs, then what must come before it), then the
// configuration lines, the files' lines, the zone, the configuration again,
// and last the query's own flags and spelling. The result's Expect and
// Signature are filled in.
func (sh *Shrinker) Shrink(c *Case, sig string) (*Case, Outcome, error) {
	if sh.Budget == 0 {
		sh.Budget = 400
	}
	sh.runs = 0
	c = c.Clone()
	var last Outcome
	var runErr error
	test := func(cand *Case) bool {
		if runErr != nil || sh.runs >= sh.Budget {
			return false
		}
		sh.runs++
		o, err := Check(sh.S, cand, sig)
		if err != nil {
			runErr = err
			return false
		}
		if o.Signature != sig {
			return false
		}
		if o.Query >= 0 {
			cand.Queries = cand.Queries[:o.Query+1]
		}
		last = o
		return true
	}
	if !test(c) {
		if runErr != nil {
			return nil, Outcome{}, runErr
		}
		return nil, Outcome{}, errors.New("the difference does not reproduce: " + sig)
	}
	loadSig := strings.HasPrefix(sig, "load ")
	if loadSig {
		c.Queries = nil
		c.Zone = nil
	} else {
		// The query that differs, alone; else what must come before it.
		n := len(c.Queries)
		if alone := c.Clone(); n > 1 {
			alone.Queries = alone.Queries[n-1:]
			if test(alone) {
				c = alone
			} else {
				lastQ := c.Queries[n-1]
				prefix := ddmin(c.Queries[:n-1], func(p []Query) bool {
					cand := c.Clone()
					cand.Queries = append(slices.Clone(p), lastQ)
					return test(cand)
				})
				c.Queries = append(prefix, lastQ)
			}
		}
	}
	for round := 0; round < 2; round++ {
		c.Config = ddmin(c.Config, func(p []string) bool {
			cand := c.Clone()
			cand.Config = p
			return test(cand)
		})
		c.Files = slices.DeleteFunc(c.Files, func(f File) bool {
			return !strings.Contains(strings.Join(c.Config, "\n"), "/"+f.Name)
		})
		for i := range c.Files {
			c.Files[i].Lines = ddmin(c.Files[i].Lines, func(p []string) bool {
				cand := c.Clone()
				cand.Files[i].Lines = p
				return test(cand)
			})
		}
		if !loadSig {
			c.Zone = ddmin(c.Zone, func(p []string) bool {
				cand := c.Clone()
				cand.Zone = p
				return test(cand)
			})
		}
	}
	if !loadSig {
		c = sh.simplifyQueries(c, test)
	}
	if runErr != nil {
		return nil, Outcome{}, runErr
	}
	// Once more, to record dnsmasq's answer for the case as it now is.
	if !test(c) {
		return nil, Outcome{}, errors.New("the shrunk case does not reproduce: " + sig)
	}
	c.Signature = sig
	if last.Query >= 0 {
		c.Expect = last.Want.Key()
	}
	return c, last, nil
}

// simplifyQueries tries, query by query, UDP instead of TCP, no DO, no OPT,
// and the name in lower case.
func (sh *Shrinker) simplifyQueries(c *Case, test func(*Case) bool) *Case {
	for i := 0; i < len(c.Queries); i++ {
		for _, simpler := range []func(q *Query){
			func(q *Query) { q.TCP = false },
			func(q *Query) { q.DO = false },
			func(q *Query) { q.EDNS, q.DO = 0, false },
			func(q *Query) { q.Name = strings.ToLower(q.Name) },
		} {
			if i >= len(c.Queries) {
				return c
			}
			cand := c.Clone()
			simpler(&cand.Queries[i])
			if cand.Queries[i] != c.Queries[i] && test(cand) {
				c = cand
			}
		}
	}
	return c
}

// ddmin is delta debugging (Zeller): it removes ever smaller chunks of items
// while test still holds, and returns a 1-minimal list (as far as the chunks
// tried go).
func ddmin[T any](items []T, test func([]T) bool) []T {
	items = slices.Clone(items)
	if len(items) == 0 {
		return items
	}
	if test(nil) {
		return nil
	}
	n := 2
	for len(items) >= 2 {
		chunk := (len(items) + n - 1) / n
		reduced := false
		for start := 0; start < len(items); start += chunk {
			end := min(start+chunk, len(items))
			cand := append(slices.Clone(items[:start]), items[end:]...)
			if test(cand) {
				items = cand
				n = max(n-1, 2)
				reduced = true
				break
			}
		}
		if !reduced {
			if n >= len(items) {
				break
			}
			n = min(2*n, len(items))
		}
	}
	return items
}
