package dashboard

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// UnmarshalCaddyfile sets up the handler. Syntax:
//
//	frontdesk_dashboard [<matcher>] {
//	    refresh <duration>
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.Errf("frontdesk_dashboard: unexpected argument %q (options go in a block: refresh)", d.Val())
	}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "refresh":
			var arg string
			if !d.Args(&arg) || d.NextArg() {
				return d.Errf("frontdesk_dashboard: refresh: want exactly one duration")
			}
			dur, err := caddy.ParseDuration(arg)
			if err != nil || dur < minRefresh {
				return d.Errf("frontdesk_dashboard: refresh: want a duration of at least %s, got %q", minRefresh, arg)
			}
			h.Refresh = caddy.Duration(dur)
		default:
			return d.Errf("frontdesk_dashboard: unknown option %q (known: refresh)", opt)
		}
	}
	return nil
}

var _ caddyfile.Unmarshaler = (*Handler)(nil)
