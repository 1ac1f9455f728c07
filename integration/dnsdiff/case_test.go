package dnsdiff

import (
	"slices"
	"testing"
)

// TestCaseRoundTrip: a generated case survives Marshal and ParseCase, odd
// spacing of its lines included.
func TestCaseRoundTrip(t *testing.T) {
	g := NewGenerator(7)
	for i := 0; i < 50; i++ {
		c := g.Case(20)
		c.Config = append(c.Config, "  txt-record=a.lan,\"x  y\"  ", "")
		c.Signature = "rcode NOERROR/NXDOMAIN"
		if i%2 == 0 {
			c.Open = "issue 10: filter-rr on names that do not exist"
		}
		c.Expect = []string{"rcode=NOERROR flags=[aa ra rd] no-opt"}
		back, err := ParseCase(c.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		if back.Marshal() != c.Marshal() || !slices.Equal(back.Config, c.Config) {
			t.Fatalf("round trip changed the case:\n%s\n---\n%s", c.Marshal(), back.Marshal())
		}
	}
}

// TestDdmin: the result still passes the test and no single item can go.
func TestDdmin(t *testing.T) {
	items := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	needs := func(s []int) bool { return slices.Contains(s, 3) && slices.Contains(s, 9) }
	got := ddmin(items, needs)
	if !slices.Equal(got, []int{3, 9}) {
		t.Fatalf("ddmin = %v, want [3 9]", got)
	}
	if got := ddmin(items, func([]int) bool { return true }); len(got) != 0 {
		t.Fatalf("ddmin with an always-true test = %v, want []", got)
	}
}

// FuzzParseCase: whatever the text, ParseCase does not panic, and what it
// accepts marshals to text it parses to the same case.
func FuzzParseCase(f *testing.F) {
	f.Add(NewGenerator(1).Case(3).Marshal())
	f.Add("signature: load frontdesk refused\nconfig:\n  host-record=a,,fd00::1\nzone:\nqueries:\n")
	f.Add("queries:\n  a.lan. TYPE65280 tcp edns=1232 do\n")
	f.Add("signature: answer ttl\nopen: issue 10\nconfig:\n  max-ttl=5\nzone:\nqueries:\n  a.lan. A\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCase(text)
		if err != nil {
			return
		}
		again, err := ParseCase(c.Marshal())
		if err != nil {
			t.Fatalf("re-parsing %q: %v", c.Marshal(), err)
		}
		if again.Marshal() != c.Marshal() {
			t.Fatalf("not stable:\n%q\n%q", c.Marshal(), again.Marshal())
		}
	})
}

// TestOpenSignatures: only open cases with a signature count as known.
func TestOpenSignatures(t *testing.T) {
	got := OpenSignatures(map[string]*Case{
		"a.txt": {Signature: "answer ttl", Open: "issue 10"},
		"b.txt": {Signature: "rcode REFUSED/NOERROR"},
		"c.txt": {Open: "no signature"},
	})
	if len(got) != 1 || got["answer ttl"] != "a.txt" {
		t.Fatalf("OpenSignatures = %v, want only answer ttl -> a.txt", got)
	}
}
