package dnsdiff

import (
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq"
)

// TestGeneratorCoversTable fails when the parser's option table has an
// option the generator neither writes nor excludes with a reason, or when
// the generator names an option the table does not have.
func TestGeneratorCoversTable(t *testing.T) {
	table := dnsmasq.Options()
	if len(table) < 100 {
		t.Fatalf("the option table has %d entries; expected the parser's ~120", len(table))
	}
	missing, unknown, both := Coverage(table)
	for _, n := range missing {
		t.Errorf("option %s is in the parser's table but neither generated (options in generate.go) nor excluded with a reason (excluded in coverage.go)", n)
	}
	for _, n := range unknown {
		t.Errorf("option %s is generated or excluded but not in the parser's table", n)
	}
	for _, n := range both {
		t.Errorf("option %s is both generated and excluded", n)
	}
	for _, s := range table {
		if why := Excluded(s); why == "" && !generated(s.Name) {
			t.Errorf("option %s: excluded without a reason", s.Name)
		}
	}
}

func generated(name string) bool {
	for _, o := range options {
		if o.name == name {
			return true
		}
	}
	return false
}

// TestGeneratorRepeatsOnlyRepeatable: a production the generator may draw
// several times per configuration must be an option whose lines add up in
// the table (Repeat); otherwise later lines only override earlier ones.
func TestGeneratorRepeatsOnlyRepeatable(t *testing.T) {
	spec := map[string]dnsmasq.OptionSpec{}
	for _, s := range dnsmasq.Options() {
		spec[s.Name] = s
	}
	for _, o := range options {
		if !o.once && !spec[o.name].Repeat {
			t.Errorf("%s: drawn more than once per configuration, but the table says its lines do not add up", o.name)
		}
	}
}

// TestGeneratedLinesParse: the lines a production writes have the shape
// the table gives the option (a flag has no value, other options have
// one), and parse with the table's parse functions, but for the few a
// production writes on purpose that dnsmasq refuses too (a cname to
// itself): at most one in ten.
func TestGeneratedLinesParse(t *testing.T) {
	const n = 100
	spec := map[string]dnsmasq.OptionSpec{}
	for _, s := range dnsmasq.Options() {
		spec[s.Name] = s
	}
	g := NewGenerator(1)
	rep := strings.NewReplacer(PlaceUpstream, "127.0.0.1#53", PlaceDir, t.TempDir())
	for _, o := range options {
		refused, example := 0, ""
		for i := 0; i < n; i++ {
			g.bases, g.labels, g.names = g.subset(poolBases, 2), g.subset(poolLabels, 3), map[string]bool{}
			lines, file := o.gen(g)
			if file != nil {
				lines = []string{"addn-hosts=" + PlaceDir + "/hosts1"}
			}
			for _, l := range lines {
				name, _, hasVal := strings.Cut(l, "=")
				switch a := spec[name].Arity; {
				case a == dnsmasq.FlagArity && hasVal:
					t.Errorf("%s: generated %q, but the table says it takes no value", o.name, l)
				case a == dnsmasq.RequiredArity && !hasVal:
					t.Errorf("%s: generated %q, but the table says it needs a value", o.name, l)
				}
			}
			var ls []dnsmasq.Line
			for k, l := range lines {
				ls = append(ls, dnsmasq.Line{File: o.name, Line: k + 1, Text: rep.Replace(l)})
			}
			if _, err := dnsmasq.ParseLines(ls); err != nil {
				refused, example = refused+1, err.Error()
			}
		}
		if refused > n/10 {
			t.Errorf("%s: %d of %d generated lines refused, for example %s", o.name, refused, n, example)
		}
	}
}
