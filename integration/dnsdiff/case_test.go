package dnsdiff

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
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

// TestWriteCaseNames: a case's file name follows its whole content, so two
// cases of one signature and one option set get two files; the same case
// written again (other notes) keeps the one file as it is; and a file that
// holds another case under the name is never overwritten.
func TestWriteCaseNames(t *testing.T) {
	dir := t.TempDir()
	mk := func(query string, note string) *Case {
		q, err := ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		return &Case{Signature: "rcode NXDOMAIN/NOERROR", Config: []string{"server={UPSTREAM}", "dns-rr=printer,16,0a0b0c"},
			Queries: []Query{q}, Expect: []string{"rcode=NXDOMAIN flags=[ra rd] no-opt"}, Note: []string{note}}
	}
	a, b := mk("printer. SRV", "found by dnsdiff -seed 1"), mk("printer. AAAA", "found by dnsdiff -seed 7")
	if a.ID() == b.ID() {
		t.Fatalf("two cases of one signature and option set: IDs %s and %s, want different", a.ID(), b.ID())
	}
	pa, err := WriteCase(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := WriteCase(dir, b)
	if err != nil {
		t.Fatal(err)
	}
	if pa == pb {
		t.Fatalf("both cases written to %s", pa)
	}
	// The same case again, found by another seed: the file stays as written.
	again := mk("printer. SRV", "found by dnsdiff -seed 9")
	if p, err := WriteCase(dir, again); err != nil || p != pa {
		t.Fatalf("the same case again: %s, %v; want %s", p, err, pa)
	}
	if got := readCase(t, pa); !slices.Equal(got.Note, a.Note) {
		t.Fatalf("the first file's notes changed to %q", got.Note)
	}
	// Another case in the file of a's name (a hash prefix collision):
	// a goes next to it, the file is kept.
	other := filepath.Join(dir, a.ID()+".txt")
	if err := os.WriteFile(other, []byte(b.Marshal()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := WriteCase(dir, a)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, a.ID()+"-2.txt"); p != want {
		t.Fatalf("case written to %s, want %s", p, want)
	}
	if got := readCase(t, other); !sameCase(got, b) {
		t.Fatalf("the colliding file was overwritten:\n%s", got.Marshal())
	}
	if got := readCase(t, p); !sameCase(got, a) {
		t.Fatalf("%s holds:\n%s", p, got.Marshal())
	}
	cases, err := LoadCases(dir)
	if err != nil || len(cases) != 3 {
		t.Fatalf("LoadCases: %d cases, %v; want 3", len(cases), err)
	}
}

func readCase(t *testing.T, p string) *Case {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCase(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecursiveUpstreamLine(t *testing.T) {
	c := &Case{Config: []string{"server={UPSTREAM}"}, Zone: []string{"a.test. 300 IN CNAME b.test."}, Queries: []Query{{Name: "a.test.", Type: dns.TypeA}}, Recursive: true}
	text := c.Marshal()
	if !strings.Contains(text, "\nupstream: recursive\n") && !strings.HasPrefix(text, "upstream: recursive\n") {
		t.Fatalf("no upstream line in\n%s", text)
	}
	back, err := ParseCase(text)
	if err != nil || !back.Recursive || back.Marshal() != text {
		t.Fatalf("round trip: %v, recursive %v\n%s", err, back != nil && back.Recursive, text)
	}
	plain := c.Clone()
	plain.Recursive = false
	if plain.ID() == c.ID() {
		t.Error("the upstream's kind does not change the case's name")
	}
}

func TestRecursiveZoneAnswersChainEnd(t *testing.T) {
	z, err := ParseZone([]string{"a.test. 300 IN CNAME b.test.", "c.test. 300 IN CNAME d.test.", "d.test. 300 IN TXT \"x\""})
	if err != nil {
		t.Fatal(err)
	}
	ask := func(name string, recursive bool) *dns.Msg {
		z.Recursive = recursive
		r := new(dns.Msg)
		z.answer(dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}, r)
		return r
	}
	if r := ask("a.test.", false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || len(r.Ns) != 0 {
		t.Errorf("authoritative, dangling chain: %v", r)
	}
	if r := ask("a.test.", true); r.Rcode != dns.RcodeNameError || len(r.Answer) != 1 || len(r.Ns) != 1 {
		t.Errorf("recursive, chain to a name that does not exist: want NXDOMAIN, the CNAME and the SOA: %v", r)
	}
	if r := ask("c.test.", true); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || len(r.Ns) != 1 {
		t.Errorf("recursive, chain to a name without A: want NOERROR, the CNAME and the SOA: %v", r)
	}
}
