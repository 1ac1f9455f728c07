package healthgate

import (
	"maps"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// This file holds what the two handlers that report on pools, healthz and
// health_status, share: their Caddyfile syntax and their pool selection.

// unmarshalPoolHandler reads the Caddyfile tokens of a handler that reports
// on pools:
//
//	<directive> [<matcher>] [<pools...>] {
//	    pools <pools...>
//	    <option> <args...>
//	}
//
// Pool names, inline or on `pools` lines, are appended to *pools. Every other
// option is handed to its parser in options; an error from the parser, or an
// unknown option, fails with "<directive>: <option>: ..." and the line; so
// does a pool no `dynamic healthgate` block of the Caddyfile defines.
func unmarshalPoolHandler(d *caddyfile.Dispenser, directive string, pools *[]string, options map[string]func(args []string) error) error {
	d.Next() // directive name
	at := d.Token()
	*pools = append(*pools, d.RemainingArgs()...)
	for d.NextBlock(0) {
		opt := d.Val()
		args := d.RemainingArgs()
		if opt == "pools" {
			if len(args) == 0 {
				return d.Errf("%s: pools: needs at least one pool name", directive)
			}
			*pools = append(*pools, args...)
			continue
		}
		parse, ok := options[opt]
		if !ok {
			known := append([]string{"pools"}, slices.Sorted(maps.Keys(options))...)
			return d.Errf("%s: unknown option %q (known: %s)", directive, opt, strings.Join(known, ", "))
		}
		if err := parse(args); err != nil {
			return d.Errf("%s: %s: %v", directive, opt, err)
		}
	}
	return checkPoolsDefined(at, *pools)
}

// poolFilter reports whether a pool is one of names; with no names, every
// pool is.
func poolFilter(names []string) func(pool string) bool {
	want := make(map[string]bool, len(names))
	for _, name := range names {
		want[name] = true
	}
	return func(pool string) bool {
		return len(want) == 0 || want[pool]
	}
}
