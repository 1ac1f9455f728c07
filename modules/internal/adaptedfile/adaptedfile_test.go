package adaptedfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

const sample = `{
	admin off
}

(proxied) {
	reverse_proxy 127.0.0.1:9 {
		header_up -Via
	}
}

http://a.test {
	header_policy nginx
	handle /api/* {
		respond "{" 200
		reverse_proxy {
			dynamic healthgate app_pool {
				to 127.0.0.1:9061
			}
		}
	}
	import proxied
}
`

// write stores body as a Caddyfile and returns its path.
func write(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func tok(path, text string, line int) caddyfile.Token {
	return caddyfile.Token{File: path, Line: line, Text: text}
}

// outline renders the directive tree: one directive a line, indented by
// depth, with its arguments.
func outline(f *File) string {
	var sb strings.Builder
	var walk func(dirs []*Directive, depth int)
	walk = func(dirs []*Directive, depth int) {
		for _, d := range dirs {
			sb.WriteString(strings.Repeat("\t", depth) + d.Name.Text)
			for _, a := range d.Args {
				sb.WriteString(" " + a.Text)
			}
			sb.WriteString("\n")
			walk(d.Block, depth+1)
		}
	}
	for _, b := range f.Blocks {
		walk(b.Directives, 0)
	}
	return sb.String()
}

func TestReadPathTree(t *testing.T) {
	path := write(t, sample)
	f, ok := ReadPath(path, tok(path, "header_policy", 12))
	if !ok {
		t.Fatal("the file holding the token was not accepted")
	}
	want := "admin off\n" +
		"header_policy nginx\n" +
		"handle /api/*\n" +
		"\trespond { 200\n" + // a quoted brace is an argument, not a block
		"\treverse_proxy\n" +
		"\t\tdynamic healthgate app_pool\n" +
		"\t\t\tto 127.0.0.1:9061\n" +
		"reverse_proxy 127.0.0.1:9\n" + // from the snippet, at its own line
		"\theader_up -Via\n"
	if got := outline(f); got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
	if len(f.Blocks) != 2 || len(f.Blocks[0].Keys) != 0 || f.Blocks[1].Keys[0].Text != "http://a.test" {
		t.Errorf("blocks: %d, want the global options block then http://a.test", len(f.Blocks))
	}
}

func TestFindSiblings(t *testing.T) {
	path := write(t, sample)
	f, ok := ReadPath(path, tok(path, "header_policy", 12))
	if !ok {
		t.Fatal("not read")
	}
	cases := []struct {
		text     string
		line     int
		siblings []string
	}{
		{"header_policy", 12, []string{"header_policy", "handle", "reverse_proxy"}},
		{"respond", 14, []string{"respond", "reverse_proxy"}},
		{"to", 17, []string{"to"}},
		{"header_up", 7, []string{"header_up"}},
	}
	for _, c := range cases {
		d, sib := f.Find(tok(path, c.text, c.line))
		if d == nil {
			t.Errorf("%s at line %d not found", c.text, c.line)
			continue
		}
		var names []string
		for _, s := range sib {
			names = append(names, s.Name.Text)
		}
		if strings.Join(names, " ") != strings.Join(c.siblings, " ") {
			t.Errorf("%s at line %d: siblings %v, want %v", c.text, c.line, names, c.siblings)
		}
	}
	if d, _ := f.Find(tok(path, "header_policy", 13)); d != nil {
		t.Error("a token at the wrong line was found")
	}
	rp := f.Blocks[1].Directives[1].Child("reverse_proxy")
	if rp == nil || rp.Child("dynamic").Arg(1) != "app_pool" || rp.Child("dynamic").Arg(5) != "" || rp.Child("nope") != nil {
		t.Errorf("Child/Arg do not reach the pool name")
	}
}

func TestReadPathRefusesOtherFiles(t *testing.T) {
	path := write(t, sample)
	for name, at := range map[string]caddyfile.Token{
		"token not in the file":    tok(path, "header_policy", 3),
		"token of another file":    tok("other.Caddyfile", "header_policy", 12),
		"no --config":              tok("", "header_policy", 12),
		"file that does not parse": tok(write(t, "a {\n"), "a", 1),
	} {
		p := path
		switch name {
		case "no --config":
			p = ""
		case "file that does not parse":
			p = at.File
		}
		if _, ok := ReadPath(p, at); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, ok := ReadPath(filepath.Join(t.TempDir(), "missing"), tok("missing", "a", 1)); ok {
		t.Error("a missing file was accepted")
	}
}

func TestConfigFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "--config", "a.Caddyfile"}, "a.Caddyfile"},
		{[]string{"run", "--config=b"}, "b"},
		{[]string{"adapt", "-c", "c", "--pretty"}, "c"},
		{[]string{"run", "-config", "d"}, "d"},
		{[]string{"run", "--adapter", "caddyfile"}, ""},
		{[]string{"run", "--config"}, ""},
	} {
		if got := ConfigFlag(c.args); got != c.want {
			t.Errorf("ConfigFlag(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}
