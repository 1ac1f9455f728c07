package headerpolicy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
)

func init() {
	caddyopt.RegisterHandlerDirective("header_policy", parseCaddyfile)
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
	if d.NextArg() {
		h.Preset = d.Val()
		if _, err := lookupPreset(h.Preset); err != nil {
			return d.Errf("header_policy: %v", err)
		}
	}
	if d.NextArg() {
		return d.Errf("header_policy: unexpected argument %q (want at most a preset name)", d.Val())
	}
	for d.NextBlock(0) {
		if err := h.setOption(d.Val(), d.RemainingArgs()); err != nil {
			return d.Errf("header_policy: %v", err)
		}
	}
	return nil
}

// setOption reads one option line of the block.
func (h *Handler) setOption(opt string, args []string) error {
	switch opt {
	case "trusted_proxies", "host_header", "real_ip", "x_forwarded_host", "forwarded":
		return h.setForwarding(opt, args)
	case "request_id", "hide", "set", "remove":
		return h.setFields(opt, args)
	}
	return fmt.Errorf("unknown option %q (known: %s)", opt, strings.Join(caddyfileOptions, ", "))
}

// setForwarding reads the options of what the handler trusts and passes
// on about the client: trusted_proxies, host_header, real_ip,
// x_forwarded_host, forwarded.
func (h *Handler) setForwarding(opt string, args []string) error {
	switch opt {
	case "trusted_proxies":
		if len(args) == 0 {
			return fmt.Errorf("trusted_proxies: needs at least one IP range or %s", privateRanges)
		}
		if _, err := parseTrustedProxies(args); err != nil {
			return err
		}
		h.TrustedProxies = append(h.TrustedProxies, args...)
	case "host_header":
		if len(args) != 1 || (args[0] != hostClient && args[0] != hostHostname) {
			return fmt.Errorf("host_header: want exactly one of %s, %s", hostClient, hostHostname)
		}
		h.HostHeader = args[0]
	case "real_ip", "x_forwarded_host":
		b, err := caddyopt.Switch(args)
		if err != nil {
			return fmt.Errorf("%s: %w", opt, err)
		}
		if opt == "real_ip" {
			h.RealIP = &b
		} else {
			h.ForwardedHost = &b
		}
	case "forwarded":
		if err := caddyopt.Flag(args); err != nil {
			return fmt.Errorf("forwarded: %w", err)
		}
		h.Forwarded = true
	}
	return nil
}

// setFields reads the options that name header fields: request_id, hide,
// set, remove.
func (h *Handler) setFields(opt string, args []string) error {
	switch opt {
	case "request_id":
		switch len(args) {
		case 0:
			h.RequestID = "X-Request-ID"
		case 1:
			if !validFieldName(args[0]) {
				return fmt.Errorf("request_id: %q is not a valid header field name", args[0])
			}
			h.RequestID = args[0]
		default:
			return errors.New("request_id: takes at most one header field name")
		}
	case "hide":
		if len(args) == 0 {
			return errors.New("hide: needs at least one header field name")
		}
		for _, a := range args {
			if !validFieldName(a) {
				return fmt.Errorf("hide: %q is not a valid header field name", a)
			}
		}
		h.Hide = append(h.Hide, args...)
	case "set":
		if len(args) != 2 {
			return errors.New("set: want <field> <value>")
		}
		h.requestOps().Set.Set(args[0], args[1])
	case "remove":
		if len(args) != 1 {
			return errors.New("remove: want exactly one <field>")
		}
		h.requestOps().Delete = append(h.requestOps().Delete, args[0])
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
