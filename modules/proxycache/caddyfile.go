package proxycache

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("proxy_cache", parseCaddyfile)
	// Just before reverse_proxy. header_policy (registered the same way
	// earlier: Go initialises packages in import-path order) stays outside
	// the cache, so its per-request work — the request ID echoed on the
	// response, hidden upstream headers, the trust decision — also applies
	// to cache hits, and no stored response carries another request's ID.
	httpcaddyfile.RegisterDirectiveOrder("proxy_cache", httpcaddyfile.Before, "reverse_proxy")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	pc := new(Handler)
	err := pc.unmarshal(h)
	return pc, err
}

// unmarshal sets up the handler from Caddyfile tokens. Syntax:
//
//	proxy_cache [<matcher>] {
//	    storage memory {
//	        zone <name>
//	        max_size <size>
//	        inactive <duration>
//	    }
//	    storage disk <path> {
//	        max_size <size>
//	        inactive <duration>
//	    }
//	    key <template>
//	    valid [<code>...|any] <duration>
//	    methods POST
//	    min_uses <n>
//	    bypass <matcher>
//	    no_cache <matcher>
//	    ignore_headers Cache-Control|Expires|Set-Cookie|Vary|X-Accel-Expires...
//	    use_stale error|timeout|updating|http_500|http_502|http_503|http_504|http_403|http_404|http_429...|off
//	    background_update on|off
//	    lock on|off
//	    lock_timeout <duration>
//	    lock_age <duration>
//	    revalidate on|off
//	    max_object_size <size>
//	    cache_status on|off
//	    cache_status_key on|off
//	    x_cache_status on|off
//	    targeted_fields <field>...|off
//	    forward_targeted on|off
//	}
//
// Every value is checked here, so a mistake fails `adapt`/`validate` with the
// file and line.
func (pc *Handler) unmarshal(h httpcaddyfile.Helper) error {
	d := h.Dispenser
	d.Next() // directive name
	fail := func(format string, args ...any) error {
		return d.Errf("proxy_cache: "+format, args...)
	}
	if d.NextArg() {
		return fail("unexpected argument %q (options go in a block)", d.Val())
	}
	for d.NextBlock(0) {
		opt := d.Val()
		switch opt {
		case "storage":
			if !d.NextArg() {
				return fail("storage: want a storage module name (memory)")
			}
			name := d.Val()
			modID := "http.handlers.proxy_cache.storage." + name
			if _, err := caddy.GetModule(modID); err != nil {
				return fail("storage: unknown storage %q (available: %s)", name, storageNames)
			}
			unm, err := caddyfile.UnmarshalModule(d, modID)
			if err != nil {
				return err
			}
			raw, err := json.Marshal(unm)
			if err != nil {
				return fail("storage: %v", err)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return fail("storage: %v", err)
			}
			m["module"] = name
			pc.StorageRaw, _ = json.Marshal(m)
			continue

		case "bypass", "no_cache":
			set, ok, err := h.MatcherToken()
			if err != nil {
				return fail("%s: %v", opt, err)
			}
			if !ok {
				return fail("%s: want a matcher (@name, a path or *)", opt)
			}
			if d.NextArg() {
				return fail("%s: takes exactly one matcher per line, got also %q", opt, d.Val())
			}
			if opt == "bypass" {
				pc.BypassRaw = append(pc.BypassRaw, set)
			} else {
				pc.NoCacheRaw = append(pc.NoCacheRaw, set)
			}
			continue
		}

		args := d.RemainingArgs()
		one := func() (string, error) {
			if len(args) != 1 {
				return "", fail("%s: want exactly one value", opt)
			}
			return args[0], nil
		}
		switch opt {
		case "key":
			v, err := one()
			if err != nil {
				return err
			}
			if err := checkKey(v); err != nil {
				return fail("%v", err)
			}
			pc.Key = v

		case "valid":
			if len(args) == 0 {
				return fail("valid: want [<status codes>|any] <duration>")
			}
			dur, err := caddy.ParseDuration(args[len(args)-1])
			if err != nil || dur < 0 {
				return fail("valid: %q is not a duration (e.g. 10m, 1h, 1d)", args[len(args)-1])
			}
			codes := args[:len(args)-1]
			if len(codes) == 0 {
				codes = []string{"200", "301", "302"} // nginx's default
			}
			if pc.Valid == nil {
				pc.Valid = map[string]caddy.Duration{}
			}
			for _, c := range codes {
				if _, err := parseValidCode(c); err != nil {
					return fail("%v", err)
				}
				pc.Valid[c] = caddy.Duration(dur)
			}

		case "methods":
			if len(args) == 0 {
				return fail("methods: want at least one method")
			}
			for _, m := range args {
				u, err := cacheableMethod(m)
				if err != nil {
					return fail("%v", err)
				}
				pc.Methods = append(pc.Methods, u)
			}

		case "min_uses":
			v, err := one()
			if err != nil {
				return err
			}
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 {
				return fail("min_uses: %q is not a number of at least 1", v)
			}
			pc.MinUses = n

		case "ignore_headers":
			if len(args) == 0 {
				return fail("ignore_headers: want at least one of %s", strings.Join(ignorable, ", "))
			}
			for _, f := range args {
				name, err := ignorableField(f)
				if err != nil {
					return fail("%v", err)
				}
				pc.IgnoreHeaders = append(pc.IgnoreHeaders, name)
			}

		case "use_stale":
			if len(args) == 0 {
				return fail("use_stale: want conditions (error timeout updating http_500 ...) or off")
			}
			pc.UseStale = append(pc.UseStale, args...)
			if _, err := parseUseStale(pc.UseStale); err != nil {
				return fail("%v", err)
			}

		case "targeted_fields":
			if len(args) == 0 {
				return fail("targeted_fields: want field names (e.g. Frontdesk-Cache-Control CDN-Cache-Control) or off")
			}
			fields := []string{}
			if len(args) != 1 || args[0] != "off" {
				fields = args
			}
			pc.TargetedFields = &fields
			if err := (&TargetedCacheControl{TargetedFields: &fields}).provision(); err != nil {
				return fail("%v", err)
			}

		case "background_update", "lock", "revalidate", "cache_status", "cache_status_key", "x_cache_status", "forward_targeted":
			b, err := caddyopt.Switch(args)
			if err != nil {
				return fail("%s: %v", opt, err)
			}
			switch opt {
			case "background_update":
				pc.BackgroundUpdate = b
			case "lock":
				pc.Lock = b
			case "revalidate":
				pc.Revalidate = &b
			case "cache_status":
				pc.CacheStatus = &b
			case "cache_status_key":
				pc.CacheStatusKey = b
			case "x_cache_status":
				pc.XCacheStatus = &b
			case "forward_targeted":
				pc.ForwardTargeted = &b
			}

		case "lock_timeout", "lock_age":
			v, err := one()
			if err != nil {
				return err
			}
			dur, perr := caddy.ParseDuration(v)
			if perr != nil || dur <= 0 {
				return fail("%s: %q is not a positive duration", opt, v)
			}
			if opt == "lock_age" {
				pc.LockAge = caddy.Duration(dur)
			} else {
				pc.LockTimeout = caddy.Duration(dur)
			}

		case "max_object_size":
			v, err := one()
			if err != nil {
				return err
			}
			n, perr := caddyopt.ParseSize(v)
			if perr != nil || n <= 0 {
				return fail("max_object_size: %q is not a size (e.g. 512k, 100m, 1g)", v)
			}
			pc.MaxObjectSize = n

		default:
			return fail("unknown option %q", opt)
		}
	}
	return nil
}

// storageNames lists the storage modules for error messages.
const storageNames = "memory, disk, redis"
