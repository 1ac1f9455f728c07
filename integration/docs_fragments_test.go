package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docFiles are the documents whose Caddyfile fragments a user copies.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{repoFile(t, "README.md"), repoFile(t, "caddyfile/README.md")}
	mods, err := filepath.Glob(repoFile(t, "modules/*/README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append(files, mods...)
}

// fencedBlock is one ``` block of a Markdown file.
type fencedBlock struct {
	file, info, text string
	line             int // of the opening fence
}

func fencedBlocks(t *testing.T, file string) []fencedBlock {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []fencedBlock
	var cur *fencedBlock
	var indent, fence string
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case cur == nil && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
			indent = line[:len(line)-len(trimmed)]
			cur = &fencedBlock{file: file, info: strings.TrimSpace(trimmed[3:]), line: i + 1}
		case cur != nil && strings.HasPrefix(trimmed, fence):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, indent) + "\n"
		}
	}
	return blocks
}

// globalOptions are the global options a fragment may start with; such a
// fragment is adapted inside a global options block.
var globalOptions = map[string]bool{"dnsmasq": true, "admin": true, "log": true, "servers": true, "order": true}

// siteAddress matches a first line that opens a site block.
var siteAddress = regexp.MustCompile(`^(https?://|:\d|[a-z0-9*-]+(\.[a-z0-9*-]+)+|localhost|\[|\d+\.)\S*(,\s*\S+)*\s*\{$`)

// asCaddyfile turns a fragment into a whole Caddyfile: as it is when it
// starts with a global options block or a site; inside a global options block
// when it starts with a global option; inside a site otherwise.
func asCaddyfile(fragment string) string {
	first := ""
	for _, l := range strings.Split(fragment, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			first = l
			break
		}
	}
	word, _, _ := strings.Cut(first, " ")
	switch {
	case first == "{" || siteAddress.MatchString(first):
		return fragment
	case globalOptions[word]:
		return "{\n" + fragment + "}\n"
	default:
		return "http://docs.example:8080 {\n" + fragment + "}\n"
	}
}

// TestDocsCaddyfileFragmentsAdapt: every caddyfile block (``` or ~~~) of the
// README files that is not a Syntax block adapts with the binary, so the
// documentation cannot drift from the parser; an untagged block that is a
// whole Caddyfile must be tagged.
func TestDocsCaddyfileFragmentsAdapt(t *testing.T) {
	dir := t.TempDir()
	n := 0
	for _, file := range docFiles(t) {
		rel, _ := filepath.Rel(repoFile(t, "."), file)
		for _, b := range fencedBlocks(t, file) {
			where := rel + ":" + strconv.Itoa(b.line)
			switch b.info {
			case "caddyfile":
				if isSyntax(b.text) {
					continue // a Syntax block: <placeholders>, a|b, ...
				}
			case "":
				if looksLikeWholeCaddyfile(b.text) {
					t.Errorf("%s: an untagged block that is a literal Caddyfile; tag it ```caddyfile so this test adapts it", where)
				}
				continue
			default:
				continue
			}
			n++
			cf := filepath.Join(dir, "fragment"+strconv.Itoa(n)+".Caddyfile")
			if err := os.WriteFile(cf, []byte(asCaddyfile(b.text)), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(frontdeskBin, "adapt", "--config", cf, "--adapter", "caddyfile")
			cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: the ```caddyfile block does not adapt: %v\n%s\n--- as adapted:\n%s", where, err, logMessages(out), asCaddyfile(b.text))
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d Caddyfile blocks found in the documentation; the extraction is broken", n)
	}
	t.Logf("%d Caddyfile blocks adapted", n)
}

// syntaxMarker is what a Syntax block has and a literal Caddyfile has not:
// <placeholders>, alternatives (on|off) and ellipses.
var syntaxMarker = regexp.MustCompile(`<[a-zA-Z_|. -]+>|\.\.\.|\b[a-z0-9_]+\|[a-z0-9_]+\b|\[[a-z<]`)

func isSyntax(text string) bool { return syntaxMarker.MatchString(text) }

// looksLikeWholeCaddyfile: a global options block or a site block, with no
// syntax markers.
func looksLikeWholeCaddyfile(text string) bool {
	if isSyntax(text) {
		return false
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return lines[0] == "{" || siteAddress.MatchString(strings.TrimSpace(lines[0]))
}

// TestDocsTableFragmentsAreLiteral: a Caddyfile piece in a table cell is one
// literal line. Caddy refuses anything after '{' on the line, so a cell like
// `storage memory { zone x; max_size 1g }` fails when copied; tables write
// `storage memory` › `zone x` instead.
func TestDocsTableFragmentsAreLiteral(t *testing.T) {
	oneLineBlock := regexp.MustCompile(`\{\s+[^\s}]`)
	span := regexp.MustCompile("`([^`]*)`")
	// The migration tables' first column is nginx, Apache or HAProxy, quoted
	// as those programs write it.
	foreign := regexp.MustCompile(`^(location|server|upstream|use_backend|listen)\b`)
	for _, file := range docFiles(t) {
		rel, _ := filepath.Rel(repoFile(t, "."), file)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "|") {
				continue
			}
			for _, m := range span.FindAllStringSubmatch(line, -1) {
				if oneLineBlock.MatchString(m[1]) && !foreign.MatchString(m[1]) {
					t.Errorf("%s:%d: `%s` is not a literal Caddyfile line (nothing may follow '{' on its line); write `a` › `b`", rel, i+1, m[1])
				}
			}
		}
	}
}

// TestDocsJSONFragmentsValidate: every json block of the README files that
// is one whole object — a handler (`"handler"`) or a whole config
// (`"apps"`) — passes `frontdesk validate`, so a JSON example cannot name a
// field the module does not have (Caddy refuses unknown fields) or a value
// it refuses. A handler is validated inside one route of a server.
func TestDocsJSONFragmentsValidate(t *testing.T) {
	dir := t.TempDir()
	n := 0
	for _, file := range docFiles(t) {
		rel, _ := filepath.Rel(repoFile(t, "."), file)
		for _, b := range fencedBlocks(t, file) {
			if b.info != "json" {
				continue
			}
			where := rel + ":" + strconv.Itoa(b.line)
			var obj map[string]json.RawMessage
			if err := json.Unmarshal([]byte(b.text), &obj); err != nil {
				continue // several objects, or a fragment of one
			}
			var config []byte
			switch {
			case obj["apps"] != nil:
				config = []byte(b.text)
			case obj["handler"] != nil:
				config = []byte(`{"apps": {"http": {"servers": {"docs": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [` + b.text + `]}]}}}}}`)
			default:
				continue
			}
			n++
			cf := filepath.Join(dir, "fragment"+strconv.Itoa(n)+".json")
			if err := os.WriteFile(cf, config, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(frontdeskBin, "validate", "--config", cf)
			cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: the json block does not validate: %v\n%s", where, err, logMessages(out))
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d JSON blocks found in the documentation; the extraction is broken", n)
	}
	t.Logf("%d JSON blocks validated", n)
}
