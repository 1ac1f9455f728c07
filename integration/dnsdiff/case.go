package dnsdiff

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Placeholders in a case's configuration, files and zone, replaced for each
// side by its own values.
const (
	// PlaceUpstream is the side's loopback upstream, as a server= address
	// (127.0.0.1#port).
	PlaceUpstream = "{UPSTREAM}"
	// PlaceDir is the side's directory holding the case's files.
	PlaceDir = "{DIR}"
)

// Query is one question of a case.
type Query struct {
	Name string
	Type uint16
	TCP  bool   // over TCP instead of UDP
	EDNS uint16 // EDNS0 buffer size; 0 = no OPT record
	DO   bool   // the DNSSEC OK bit (with an OPT record)
}

// String is the query as a case file writes it: `name TYPE [tcp] [edns=N] [do]`.
func (q Query) String() string {
	s := q.Name + " " + typeString(q.Type)
	if q.TCP {
		s += " tcp"
	}
	if q.EDNS > 0 {
		s += " edns=" + strconv.Itoa(int(q.EDNS))
	}
	if q.DO {
		s += " do"
	}
	return s
}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// ParseQuery reads a query written by Query.String.
func ParseQuery(s string) (Query, error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return Query{}, fmt.Errorf("query %q: want name and type", s)
	}
	q := Query{Name: f[0], Type: dns.StringToType[f[1]]}
	if n, ok := strings.CutPrefix(f[1], "TYPE"); ok {
		v, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return Query{}, fmt.Errorf("query %q: bad type", s)
		}
		q.Type = uint16(v)
	}
	if q.Type == 0 {
		return Query{}, fmt.Errorf("query %q: unknown type %s", s, f[1])
	}
	for _, o := range f[2:] {
		switch {
		case o == "tcp":
			q.TCP = true
		case o == "do":
			q.DO = true
		case strings.HasPrefix(o, "edns="):
			v, err := strconv.ParseUint(o[5:], 10, 16)
			if err != nil {
				return Query{}, fmt.Errorf("query %q: bad %s", s, o)
			}
			q.EDNS = uint16(v)
		default:
			return Query{}, fmt.Errorf("query %q: unknown flag %s", s, o)
		}
	}
	return q, nil
}

// File is a file a configuration names through {DIR}/Name (a hosts file).
type File struct {
	Name  string
	Lines []string
}

// Case is one configuration with the questions asked of it: a generated one
// (many questions) or a shrunk regression case (the last question differs).
type Case struct {
	// Signature is the difference the case shows; empty for a generated case.
	Signature string
	// Config is the dnsmasq.conf lines, with PlaceUpstream and PlaceDir.
	Config []string
	// Files are written into the side's directory.
	Files []File
	// Zone is what the loopback upstream serves: resource records in
	// presentation format.
	Zone []string
	// Recursive says how the upstream answers a CNAME chain that ends
	// without data: as the recursive resolver a server= line usually
	// names (the end's rcode and SOA, RFC 6604), not as an authoritative
	// server of the chain's first zone (NOERROR, the CNAMEs alone).
	Recursive bool
	// Queries are asked in order of both servers.
	Queries []Query
	// Expect is dnsmasq's answer to the last query, normalised (see Answer.Key),
	// as recorded when the case was shrunk.
	Expect []string
	// Note is free text kept as comments (where the case came from).
	Note []string
	// Open, when set, says the difference is known and not fixed yet (why,
	// or where it is tracked): the replay then checks that the case still
	// differs the same way, and runs count its signature as known, not
	// unexplained. Fixing the difference means deleting the line.
	Open string
}

// Clone is a deep copy.
func (c *Case) Clone() *Case {
	n := *c
	n.Config = slices.Clone(c.Config)
	n.Zone = slices.Clone(c.Zone)
	n.Queries = slices.Clone(c.Queries)
	n.Expect = slices.Clone(c.Expect)
	n.Note = slices.Clone(c.Note)
	n.Files = make([]File, len(c.Files))
	for i, f := range c.Files {
		n.Files[i] = File{f.Name, slices.Clone(f.Lines)}
	}
	return &n
}

// ID names a regression case: a hash of its whole content but the notes and
// the open line (signature, configuration, files, zone, queries and
// dnsmasq's answer), so that two different cases get different names and
// the same case found again (by another seed) gets the same one.
func (c *Case) ID() string {
	n := c.Clone()
	n.Note, n.Open = nil, ""
	h := sha256.Sum256([]byte(n.Marshal()))
	return hex.EncodeToString(h[:idBytes])
}

// idBytes is how many bytes of the content hash name a case (12 hex digits).
const idBytes = 6

// sameCase reports whether a and b are the same case: equal but for their
// notes and open lines.
func sameCase(a, b *Case) bool {
	x, y := a.Clone(), b.Clone()
	x.Note, x.Open, y.Note, y.Open = nil, "", nil, ""
	return x.Marshal() == y.Marshal()
}

// upstreamRecursive is the case file line of a recursive upstream.
const upstreamRecursive = "upstream: recursive"

// indent prefixes the lines of a section in a case file.
const indent = "  "

// Marshal is the case file's text.
func (c *Case) Marshal() string {
	var b strings.Builder
	for _, n := range c.Note {
		b.WriteString("# " + n + "\n")
	}
	if c.Signature != "" {
		b.WriteString("signature: " + c.Signature + "\n")
	}
	if c.Open != "" {
		b.WriteString("open: " + c.Open + "\n")
	}
	if c.Recursive {
		b.WriteString(upstreamRecursive + "\n")
	}
	section := func(head string, lines []string) {
		b.WriteString(head + ":\n")
		for _, l := range lines {
			b.WriteString(indent + l + "\n")
		}
	}
	section("config", c.Config)
	for _, f := range c.Files {
		section("file "+f.Name, f.Lines)
	}
	section("zone", c.Zone)
	qs := make([]string, len(c.Queries))
	for i, q := range c.Queries {
		qs[i] = q.String()
	}
	section("queries", qs)
	if len(c.Expect) > 0 {
		section("dnsmasq", c.Expect)
	}
	return b.String()
}

// ParseCase reads a case file's text.
func ParseCase(text string) (*Case, error) {
	c := &Case{}
	var cur *[]string
	var queries []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		// Carriage returns at the end of a line are not part of it (a
		// case file saved with CRLF endings, or more of them, reads the
		// same), so a parsed case prints as it parses.
		l := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(l, indent):
			if cur == nil {
				return nil, fmt.Errorf("line %d: indented line outside a section", n)
			}
			*cur = append(*cur, l[len(indent):])
		case strings.HasPrefix(l, "#"):
			c.Note = append(c.Note, strings.TrimSpace(strings.TrimPrefix(l, "#")))
		case strings.HasPrefix(l, "signature: "):
			c.Signature = strings.TrimPrefix(l, "signature: ")
		case strings.HasPrefix(l, "open: "):
			c.Open = strings.TrimPrefix(l, "open: ")
		case l == upstreamRecursive:
			c.Recursive = true
		case l == "config:":
			cur = &c.Config
		case l == "zone:":
			cur = &c.Zone
		case l == "queries:":
			cur = &queries
		case l == "dnsmasq:":
			cur = &c.Expect
		case strings.HasPrefix(l, "file ") && strings.HasSuffix(l, ":"):
			c.Files = append(c.Files, File{Name: strings.TrimSuffix(strings.TrimPrefix(l, "file "), ":")})
			cur = &c.Files[len(c.Files)-1].Lines
		case l == "":
		default:
			return nil, fmt.Errorf("line %d: unexpected %q", n, l)
		}
	}
	for _, s := range queries {
		q, err := ParseQuery(s)
		if err != nil {
			return nil, err
		}
		c.Queries = append(c.Queries, q)
	}
	if len(c.Queries) == 0 && !strings.HasPrefix(c.Signature, "load ") && !strings.HasPrefix(c.Signature, "accept ") {
		return nil, fmt.Errorf("no queries")
	}
	return c, sc.Err()
}

// LoadCases reads every *.txt case file in dir, by file name.
func LoadCases(dir string) (map[string]*Case, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	out := map[string]*Case{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		c, err := ParseCase(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out[filepath.Base(p)] = c
	}
	return out, nil
}

// WriteCase writes c into dir as <ID>.txt and returns the path. It never
// overwrites a different case: when the file holds the same case (found
// again; its notes and open line are kept) it is left alone, and when it
// holds another one, c goes to <ID>-2.txt, <ID>-3.txt, ... instead.
func WriteCase(dir string, c *Case) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	id := c.ID()
	for n := 1; ; n++ {
		name := id
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		p := filepath.Join(dir, name+".txt")
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = f.WriteString(c.Marshal())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return p, err
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		if old, err := ParseCase(string(b)); err == nil && sameCase(old, c) {
			return p, nil
		}
	}
}

// OpenSignatures maps the signature of every open case in cases to the
// case's name: the differences known and not fixed yet.
func OpenSignatures(cases map[string]*Case) map[string]string {
	open := map[string]string{}
	for name, c := range cases {
		if c.Open != "" && c.Signature != "" {
			open[c.Signature] = name
		}
	}
	return open
}
