package healthgate

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// A healthz or health_status line names pools that `dynamic healthgate`
// blocks define, often in another site or further down the file, so the
// directive's own tokens cannot tell whether a name exists. The Caddyfile
// adapter has no hook after the last directive, so checkPoolsDefined reads
// the whole Caddyfile again: the --config file of this command, parsed as
// the adapter parses it (imports and environment placeholders expanded). A
// Caddyfile given some other way (the admin API's /load, stdin) is not
// checked here.

// checkPoolsDefined fails when a pool in names is defined by no `dynamic
// healthgate` block of the Caddyfile being adapted, naming the ones that
// are; at is the directive's own token.
func checkPoolsDefined(at caddyfile.Token, names []string) error {
	if len(names) == 0 {
		return nil
	}
	defined, ok := definedPools(at)
	if !ok {
		return nil
	}
	for _, name := range names {
		if !defined[name] {
			known := slices.Sorted(func(yield func(string) bool) {
				for k := range defined {
					if !yield(k) {
						return
					}
				}
			})
			list := "none: no `dynamic healthgate` block in this Caddyfile"
			if len(known) > 0 {
				list = strings.Join(known, ", ")
			}
			return fmt.Errorf("%s: pool %q is not defined by any `dynamic healthgate` block (defined: %s), at %s:%d",
				at.Text, name, list, at.File, at.Line)
		}
	}
	return nil
}

// definedPools returns the pools the Caddyfile being adapted defines, and
// false when that Caddyfile is not the --config file (or cannot be read):
// the file must hold the directive's own token where the dispenser says.
func definedPools(at caddyfile.Token) (map[string]bool, bool) {
	path := configFlag(os.Args[1:])
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
	var toks []caddyfile.Token
	for _, sb := range blocks {
		for _, seg := range sb.Segments {
			toks = append(toks, seg...)
		}
	}
	here := false
	defined := map[string]bool{}
	for i, t := range toks {
		if t.Text == at.Text && t.File == at.File && t.Line == at.Line {
			here = true
		}
		if t.Text != "dynamic" || i+1 >= len(toks) || toks[i+1].Text != "healthgate" || toks[i+1].Line != t.Line {
			continue
		}
		name := defaultPool
		if i+2 < len(toks) && toks[i+2].Line == t.Line && toks[i+2].File == t.File && toks[i+2].Text != "{" {
			name = toks[i+2].Text
		}
		defined[name] = true
	}
	return defined, here
}

// configFlag is the value of --config (or -c) in a Caddy command line.
func configFlag(args []string) string {
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
