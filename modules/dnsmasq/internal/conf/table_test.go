package conf

import (
	"strings"
	"testing"
)

// lineErr is what the parser says of the one line text ("" when accepted).
func lineErr(text string) string {
	p := &parser{c: defaultConfig(), seen: map[string]bool{}, first: map[string]Line{}}
	if err := p.lines([]Line{{File: "t.conf", Line: 1, Text: text}}, 0); err != nil {
		return err.Error()
	}
	return ""
}

// TestTableArity checks each entry's Arity against its parse function: a
// flag refuses a value, a required value is missing without one, an
// optional one may be left out.
func TestTableArity(t *testing.T) {
	for _, s := range Options() {
		if s.Process || s.line != nil && s.Arity != Flag {
			continue // accepted whatever the value / reads files
		}
		if (s.parse == nil) == (s.line == nil) {
			t.Errorf("%s: needs exactly one of parse and line", s.Name)
		}
		bare := lineErr(s.Name)
		switch s.Arity {
		case Flag:
			if bare != "" {
				t.Errorf("%s: flag refused alone: %s", s.Name, bare)
			}
			if e := lineErr(s.Name + "=x"); !strings.Contains(e, "takes no argument") {
				t.Errorf("%s=x: flag accepted a value (%q)", s.Name, e)
			}
		case Required:
			if bare == "" {
				t.Errorf("%s: accepted without a value, but Arity is Required", s.Name)
			}
		case Optional:
			if bare != "" {
				t.Errorf("%s: refused without a value (%s), but Arity is Optional", s.Name, bare)
			}
		}
	}
}

// TestTableUnknown keeps dnsmasq's message for an option nobody knows.
func TestTableUnknown(t *testing.T) {
	if got, want := lineErr("frobnicate=1"), `dnsmasq: bad option at line 1 of t.conf: "frobnicate=1"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestTableDocumented: every entry says what it does and, when it takes a
// value, what the value's fields are.
func TestTableDocumented(t *testing.T) {
	for _, s := range Options() {
		if s.Doc == "" {
			t.Errorf("%s: no Doc", s.Name)
		}
		if s.Arity != Flag && len(s.Fields) == 0 {
			t.Errorf("%s: takes a value but has no Fields", s.Name)
		}
	}
}
