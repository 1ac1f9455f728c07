package healthgate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adaptedfile"
)

// A healthz or health_status line names pools that `dynamic healthgate`
// blocks define, often in another site or further down the file, so the
// directive's own tokens cannot tell whether a name exists:
// checkPoolsDefined reads the whole Caddyfile being adapted again (see
// package adaptedfile for how, and which Caddyfiles are not checked).

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
// false when that Caddyfile cannot be checked (see adaptedfile.Read).
func definedPools(at caddyfile.Token) (map[string]bool, bool) {
	f, ok := adaptedfile.Read(at)
	if !ok {
		return nil, false
	}
	defined := map[string]bool{}
	f.Walk(func(d *adaptedfile.Directive, _ []*adaptedfile.Directive) bool {
		if d.Name.Text == "dynamic" && d.Arg(0) == "healthgate" {
			defined[cmp.Or(d.Arg(1), defaultPool)] = true
		}
		return true
	})
	return defined, true
}
