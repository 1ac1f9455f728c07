package conf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Line is one dnsmasq option as written, with where it came from, so that
// every error names the file, the line and the option like `dnsmasq --test`.
type Line struct {
	// File is the Caddyfile or dnsmasq configuration file holding the line.
	File string `json:"file,omitempty"`
	// Line is the 1-based line number in File.
	Line int `json:"line,omitempty"`
	// Text is the option exactly as in dnsmasq.conf, for example
	// `address=/myapp.local/127.0.0.1` or `no-resolv`.
	Text string `json:"text"`

	// inFile is the line's number as an editor counts, when it is not
	// Line: after a line longer than FilePieceMax (see readConfLines).
	inFile int
	// fromFile is set on the lines of a dnsmasq file, where an option is
	// never written as on the command line (--name).
	fromFile bool
}

func (l Line) where() string {
	if l.File == "" && l.Line == 0 {
		return ""
	}
	if l.inFile != 0 {
		return fmt.Sprintf(" at line %d of %s (as dnsmasq counts lines: a line longer than %d bytes counts once for each %d; "+
			"an editor's line %d)", l.Line, l.File, FilePieceMax, FilePieceMax, l.inFile)
	}
	return fmt.Sprintf(" at line %d of %s", l.Line, l.File)
}

// LineError is a configuration error located at a Line.
type LineError struct {
	Line Line
	Err  error
}

// Error reads like dnsmasq --test: the problem, the line and file, the text.
func (e *LineError) Error() string {
	return fmt.Sprintf("dnsmasq: %v%s: %q", e.Err, e.Line.where(), e.Line.Text)
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// Inside double quotes dnsmasq hides a comma and white space from the
// splitting and trimming of an option's value (option.c hide_meta) and
// restores them only in the fields it reads (unhide_metas): `cache-size="150\t"`
// keeps its tab, and is refused. These bytes stand for them until then.
const (
	quotedComma   = 0
	quotedSpace   = 1
	quotedTab     = 2
	quotedNewline = 3
	quotedReturn  = 4
)

// hiddenInQuotes maps a character inside double quotes to the byte that
// stands for it.
var hiddenInQuotes = map[byte]byte{',': quotedComma, ' ': quotedSpace, '\t': quotedTab, '\n': quotedNewline, '\r': quotedReturn}

// unquoter restores the characters hiddenInQuotes hides.
var unquoter = func() *strings.Replacer {
	var pairs []string
	for c, h := range hiddenInQuotes {
		pairs = append(pairs, string(rune(h)), string(rune(c)))
	}
	return strings.NewReplacer(pairs...)
}()

// fields splits an option value on commas that were not quoted and trims
// the unquoted white space around each field, as dnsmasq does.
func fields(val string) []string {
	parts := strings.Split(val, ",")
	for i, p := range parts {
		parts[i] = unquoter.Replace(strings.TrimSpace(p))
	}
	return parts
}

// cleanLine applies dnsmasq's own line lexing (option.c read_file): text in
// double quotes is kept literally with the escapes \" \\ \t \n \e \b \r and
// the quotes removed, and a '#' at the start of the line or after white
// space outside quotes starts a comment. It returns the cleaned option text, or "" for a blank line.
func cleanLine(s string) (string, error) {
	var b strings.Builder
	white := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			end, err := quoted(s, i+1, &b)
			if err != nil {
				return "", err
			}
			// dnsmasq's lexer goes on with the character after the
			// closing quote without testing it for a quote, and with
			// white as it was before the opening one: a '"' there is
			// kept ("""" is a '"' and an open quote), a '#' after
			// white space and a quoted part still starts a comment.
			if i = end + 1; i >= len(s) {
				break
			}
			if c = s[i]; c == '"' {
				b.WriteByte(c)
				white = false
				continue
			}
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' {
			b.WriteByte(' ')
			white = true
			continue
		}
		if c == '#' && white {
			break
		}
		white = false
		b.WriteByte(c)
	}
	out := strings.TrimSpace(b.String())
	// dnsmasq allows spaces around '=': "port = 53".
	if name, val, ok := strings.Cut(out, "="); ok {
		out = strings.TrimSpace(name) + "=" + strings.TrimSpace(val)
	}
	return out, nil
}

// quoted writes to b the text in double quotes that starts at s[i], with
// its escapes undone and its commas and white space hidden, and returns
// the index of the closing quote.
func quoted(s string, i int, b *strings.Builder) (int, error) {
	for ; i < len(s) && s[i] != '"'; i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && strings.IndexByte("\"tnebr\\", s[i+1]) >= 0 {
			i++
			c = unescape(s[i])
		}
		if h, ok := hiddenInQuotes[c]; ok {
			c = h // neither a field separator nor trimmed
		}
		b.WriteByte(c)
	}
	if i >= len(s) {
		return 0, errors.New("missing \"")
	}
	return i, nil
}

// unescape is the character of the escape \c inside double quotes.
func unescape(c byte) byte {
	switch c {
	case 't':
		return '\t'
	case 'n':
		return '\n'
	case 'e':
		return 0x1b
	case 'b':
		return '\b'
	case 'r':
		return '\r'
	}
	return c
}

// readConfFile reads a dnsmasq configuration file into Lines.
func readConfFile(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readConfLines(f, path)
}

// FilePieceMax is how much of a line dnsmasq reads at once from a
// configuration file, a servers-file or a conf-script's output: option.c
// read_file reads with fgets(buff, MAXDNAME, f), at most MAXDNAME-1 bytes,
// and takes each piece of a longer line as a line of its own, numbered
// as one (a long comment's rest becomes a "bad option" there).
const FilePieceMax = 1024

// readConfLines reads dnsmasq configuration lines from r as dnsmasq does,
// a piece of at most FilePieceMax bytes at a time; path is the file (or
// script) that errors name.
func readConfLines(r io.Reader, path string) ([]Line, error) {
	var out []Line
	br := bufio.NewReader(r)
	n, inFile := 0, 1
	for {
		piece, err := readPiece(br)
		if piece != "" {
			n++
			if t := strings.TrimSpace(piece); t != "" && t[0] != '#' {
				l := Line{File: path, Line: n, Text: t, fromFile: true}
				if inFile != n {
					l.inFile = inFile
				}
				out = append(out, l)
			}
			if strings.HasSuffix(piece, "\n") {
				inFile++
			}
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// readPiece is fgets(buff, FilePieceMax+1, f): the bytes up to and
// including the next newline, or FilePieceMax bytes without one.
func readPiece(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for b.Len() < FilePieceMax {
		c, err := br.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
		if c == '\n' {
			break
		}
	}
	return b.String(), nil
}

// confDirFiles lists the files conf-dir=<dir>[,<ext>...] includes, sorted
// as dnsmasq does: names ending in '~', starting with '.' or '#' and ending
// in '#' are skipped; ".ext" arguments exclude extensions, "*.ext" arguments
// select only those extensions.
func confDirFiles(arg string) ([]string, error) {
	parts := strings.Split(arg, ",")
	dir := parts[0]
	var exclude, include []string
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		if strings.HasPrefix(p, "*") {
			include = append(include, p[1:])
		} else {
			exclude = append(exclude, p)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		name := e.Name()
		if name == "" || name[0] == '.' || strings.HasSuffix(name, "~") || (name[0] == '#' && strings.HasSuffix(name, "#")) {
			continue
		}
		skip := false
		for _, x := range exclude {
			if strings.HasSuffix(name, x) {
				skip = true
			}
		}
		if len(include) > 0 {
			ok := false
			for _, x := range include {
				if strings.HasSuffix(name, x) {
					ok = true
				}
			}
			skip = skip || !ok
		}
		if skip {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			continue
		}
		files = append(files, p)
	}
	sort.Strings(files)
	return files, nil
}
