package dnsdiff

import "strings"

// Allowed is a documented difference: Frontdesk answers otherwise on purpose,
// and the README says why. Every difference not matched by an entry counts as
// unexplained.
type Allowed struct {
	// Name identifies the entry in reports.
	Name string
	// Reason is why the difference is intended.
	Reason string
	// README is where the module README documents it.
	README string
	// Match reports whether the difference (its signature, in the case that
	// showed it) is this entry's.
	Match func(c *Case, sig string) bool
}

// AllowedDifferences is the list of documented answer differences. It is
// empty: no difference the generator can produce is intended yet.
var AllowedDifferences []Allowed

// AllowedAcceptance is the list of documented acceptance differences: lines
// `dnsmasq --test` accepts and Frontdesk refuses on purpose (never a form real
// files carry).
var AllowedAcceptance = []Allowed{
	{
		Name:   "synth-domain-nonsense",
		Reason: "synth-domain lines that dnsmasq accepts without meaning anything (a lone address, an end before the start, mixed families, odd prefixes, more fields) fail the configuration",
		README: "modules/dnsmasq/README.md, Differences: synth-domain",
		Match:  optionIs("synth-domain"),
	},
	{
		Name:   "add-subnet-too-long",
		Reason: "add-subnet lengths longer than the address fail the configuration",
		README: "modules/dnsmasq/README.md, Differences: add-subnet",
		Match:  optionIs("add-subnet"),
	},
}

// optionIs matches a case whose (single) configuration line is of option name.
func optionIs(name string) func(*Case, string) bool {
	return func(c *Case, _ string) bool {
		for _, l := range c.Config {
			if o, _, _ := strings.Cut(strings.TrimSpace(l), "="); strings.TrimSpace(o) == name {
				return true
			}
		}
		return false
	}
}

// allowedFor is the first entry of list matching the difference, or nil.
func allowedFor(list []Allowed, c *Case, sig string) *Allowed {
	for i := range list {
		if list[i].Match(c, sig) {
			return &list[i]
		}
	}
	return nil
}
