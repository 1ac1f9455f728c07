// Package adaptedfile reads again the Caddyfile being adapted, for checks
// that one directive's tokens cannot make: a name that refers to a block
// elsewhere in the file, or a sibling directive the handler depends on.
// The Caddyfile adapter has no hook after the last directive, and a
// directive's unmarshaler sees only its own tokens, so the check parses the
// --config file of this command as the adapter parses it (imports, snippets
// and environment placeholders expanded) and verifies that it holds the
// directive's own token where the dispenser says. A Caddyfile given some
// other way (the admin API's /load, stdin) is not read: Read reports false
// and the check is skipped.
package adaptedfile

import (
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// File is a Caddyfile parsed into blocks of directives.
type File struct {
	// Blocks are the server blocks in order; the global options block, if
	// any, is the first one and has no keys.
	Blocks []Block
}

// Block is one server block (or the global options block).
type Block struct {
	Keys       []caddyfile.Token
	Directives []*Directive
}

// Directive is one line of a block: its name, the arguments on the same
// line, and the directives of its own block, if it opens one.
type Directive struct {
	Name  caddyfile.Token
	Args  []caddyfile.Token
	Block []*Directive
}

// Arg is the text of the i-th argument, or "" if there is none.
func (d *Directive) Arg(i int) string {
	if i < len(d.Args) {
		return d.Args[i].Text
	}
	return ""
}

// Child is the first directive of d's block named name, or nil.
func (d *Directive) Child(name string) *Directive {
	for _, c := range d.Block {
		if c.Name.Text == name {
			return c
		}
	}
	return nil
}

// Read parses the Caddyfile being adapted (the --config file of this
// command) and reports whether it holds the token at; false means the
// Caddyfile came from elsewhere or could not be read, and the caller
// should skip its check.
func Read(at caddyfile.Token) (*File, bool) {
	return ReadPath(ConfigFlag(os.Args[1:]), at)
}

// ReadPath is Read of the Caddyfile at path.
func ReadPath(path string, at caddyfile.Token) (*File, bool) {
	if path == "" {
		return nil, false
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	blocks, err := caddyfile.Parse(path, body)
	if err != nil {
		return nil, false
	}
	f := &File{Blocks: make([]Block, 0, len(blocks))}
	for _, sb := range blocks {
		var toks []caddyfile.Token
		for _, seg := range sb.Segments {
			toks = append(toks, seg...)
		}
		dirs, _ := parseBlock(toks, 0)
		f.Blocks = append(f.Blocks, Block{Keys: sb.Keys, Directives: dirs})
	}
	if d, _ := f.Find(at); d == nil {
		return nil, false
	}
	return f, true
}

// Walk calls fn for every directive of the file, outer before inner, with
// the directives of the same block (siblings, d included), until fn
// returns false.
func (f *File) Walk(fn func(d *Directive, siblings []*Directive) bool) {
	var walk func(dirs []*Directive) bool
	walk = func(dirs []*Directive) bool {
		for _, d := range dirs {
			if !fn(d, dirs) || !walk(d.Block) {
				return false
			}
		}
		return true
	}
	for _, b := range f.Blocks {
		if !walk(b.Directives) {
			return
		}
	}
}

// Find is the directive whose name is the token at, and the directives of
// its block (itself included); nil if the file has none.
func (f *File) Find(at caddyfile.Token) (found *Directive, siblings []*Directive) {
	f.Walk(func(d *Directive, sib []*Directive) bool {
		if Same(d.Name, at) {
			found, siblings = d, sib
			return false
		}
		return true
	})
	return found, siblings
}

// Same reports whether two tokens are the same place in the same file.
func Same(a, b caddyfile.Token) bool {
	return a.Text == b.Text && a.File == b.File && a.Line == b.Line
}

// parseBlock reads directives from toks[i:] up to the "}" that closes the
// block (or the end), and returns them with the index after that "}".
func parseBlock(toks []caddyfile.Token, i int) ([]*Directive, int) {
	var dirs []*Directive
	for i < len(toks) {
		if isBrace(toks[i], "}") {
			return dirs, i + 1
		}
		d := &Directive{Name: toks[i]}
		i++
		for i < len(toks) && !newLine(toks[i-1], toks[i]) {
			if isBrace(toks[i], "{") && (i+1 == len(toks) || newLine(toks[i], toks[i+1])) {
				d.Block, i = parseBlock(toks, i+1)
				break
			}
			d.Args = append(d.Args, toks[i])
			i++
		}
		dirs = append(dirs, d)
	}
	return dirs, i
}

// isBrace is an unquoted brace token.
func isBrace(t caddyfile.Token, brace string) bool {
	return t.Text == brace && !t.Quoted()
}

// newLine reports whether cur starts a new line after prev, as the
// Caddyfile dispenser decides it.
func newLine(prev, cur caddyfile.Token) bool {
	return prev.File != cur.File || prev.Line+prev.NumLineBreaks() < cur.Line
}

// ConfigFlag is the value of --config (or -c) in a Caddy command line.
func ConfigFlag(args []string) string {
	for i, a := range args {
		for _, flag := range []string{"--config", "-config", "-c"} {
			if a == flag && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, flag+"="); ok {
				return v
			}
		}
	}
	return ""
}
