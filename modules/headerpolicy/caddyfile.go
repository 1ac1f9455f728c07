package headerpolicy

import (
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("header_policy", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("header_policy", httpcaddyfile.Before, "reverse_proxy")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	hp := new(Handler)
	if err := hp.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	if hp.Preset == presetNginx {
		h.Dispenser.Reset()
		h.Next()
		warnProxyGaps(h.Token())
	}
	return hp, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	header_policy [<preset>] {
//	    trusted_proxies <ranges...> | private_ranges
//	    host_header client|hostname
//	    real_ip on|off
//	    x_forwarded_host on|off
//	    forwarded
//	    request_id [<field>]
//	    hide <field...>
//	    set <field> <value>
//	    remove <field>
//	}
//
// Every value is checked here, so a mistake fails `adapt`/`validate` with the
// file and line.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	fail := func(format string, args ...any) error {
		return d.Errf("header_policy: "+format, args...)
	}
	if d.NextArg() {
		h.Preset = d.Val()
		if _, err := lookupPreset(h.Preset); err != nil {
			return fail("%v", err)
		}
	}
	if d.NextArg() {
		return fail("unexpected argument %q (want at most a preset name)", d.Val())
	}

	for d.NextBlock(0) {
		opt := d.Val()
		args := d.RemainingArgs()
		switch opt {
		case "trusted_proxies":
			if len(args) == 0 {
				return fail("trusted_proxies: needs at least one IP range or %s", privateRanges)
			}
			if _, err := parseTrustedProxies(args); err != nil {
				return fail("%v", err)
			}
			h.TrustedProxies = append(h.TrustedProxies, args...)

		case "host_header":
			if len(args) != 1 || (args[0] != hostClient && args[0] != hostHostname) {
				return fail("host_header: want exactly one of %s, %s", hostClient, hostHostname)
			}
			h.HostHeader = args[0]

		case "real_ip":
			b, err := caddyopt.Switch(args)
			if err != nil {
				return fail("real_ip: %v", err)
			}
			h.RealIP = &b

		case "x_forwarded_host":
			b, err := caddyopt.Switch(args)
			if err != nil {
				return fail("x_forwarded_host: %v", err)
			}
			h.ForwardedHost = &b

		case "forwarded":
			if len(args) != 0 {
				return fail("forwarded: takes no arguments")
			}
			h.Forwarded = true

		case "request_id":
			switch len(args) {
			case 0:
				h.RequestID = "X-Request-ID"
			case 1:
				if !validFieldName(args[0]) {
					return fail("request_id: %q is not a valid header field name", args[0])
				}
				h.RequestID = args[0]
			default:
				return fail("request_id: takes at most one header field name")
			}

		case "hide":
			if len(args) == 0 {
				return fail("hide: needs at least one header field name")
			}
			for _, a := range args {
				if !validFieldName(a) {
					return fail("hide: %q is not a valid header field name", a)
				}
			}
			h.Hide = append(h.Hide, args...)

		case "set":
			if len(args) != 2 {
				return fail("set: want <field> <value>")
			}
			h.requestOps().Set.Set(args[0], args[1])

		case "remove":
			if len(args) != 1 {
				return fail("remove: want exactly one <field>")
			}
			h.requestOps().Delete = append(h.requestOps().Delete, args[0])

		default:
			return fail("unknown option %q (known: %s)", opt, strings.Join(caddyfileOptions, ", "))
		}
	}
	return nil
}

var caddyfileOptions = []string{
	"trusted_proxies", "host_header", "real_ip", "x_forwarded_host", "forwarded",
	"request_id", "hide", "set", "remove",
}

func (h *Handler) requestOps() *headers.HeaderOps {
	if h.Request == nil {
		h.Request = &headers.HeaderOps{}
	}
	if h.Request.Set == nil {
		h.Request.Set = make(map[string][]string)
	}
	return h.Request
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Handler)(nil)
