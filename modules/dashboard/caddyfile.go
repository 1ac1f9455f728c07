package dashboard

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
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
			dur, err := caddyopt.DurationAtLeast(d.RemainingArgs(), minRefresh)
			if err != nil {
				return d.Errf("frontdesk_dashboard: refresh: %v", err)
			}
			h.Refresh = dur
		default:
			return d.Errf("frontdesk_dashboard: unknown option %q (known: refresh)", opt)
		}
	}
	return nil
}

var _ caddyfile.Unmarshaler = (*Handler)(nil)
