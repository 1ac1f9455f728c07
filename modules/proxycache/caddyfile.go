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
	// Just before reverse_proxy. header_policy (registered the same way
	// earlier: Go initialises packages in import-path order) stays outside
	// the cache, so its per-request work — the request ID echoed on the
	// response, hidden upstream headers, the trust decision — also applies
	// to cache hits, and no stored response carries another request's ID.
	caddyopt.RegisterHandlerDirective("proxy_cache", parseCaddyfile)
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
	if d.NextArg() {
		return failf(d, "unexpected argument %q (options go in a block)", d.Val())
	}
	for d.NextBlock(0) {
		var err error
		switch opt := d.Val(); opt {
		case "storage":
			err = pc.unmarshalStorage(d)
		case "bypass", "no_cache":
			err = pc.unmarshalMatcher(h, opt)
		default:
			err = pc.unmarshalOption(d, opt, d.RemainingArgs())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// failf is an error at the current token, prefixed with the directive.
func failf(d *caddyfile.Dispenser, format string, args ...any) error {
	return d.Errf("proxy_cache: "+format, args...)
}

// unmarshalStorage reads `storage <name> [{...}]` into StorageRaw.
func (pc *Handler) unmarshalStorage(d *caddyfile.Dispenser) error {
	if !d.NextArg() {
		return failf(d, "storage: want a storage module name (memory)")
	}
	name := d.Val()
	modID := "http.handlers.proxy_cache.storage." + name
	if _, err := caddy.GetModule(modID); err != nil {
		return failf(d, "storage: unknown storage %q (available: %s)", name, storageNames)
	}
	unm, err := caddyfile.UnmarshalModule(d, modID)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(unm)
	if err != nil {
		return failf(d, "storage: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return failf(d, "storage: %v", err)
	}
	m["module"] = name
	pc.StorageRaw, _ = json.Marshal(m)
	return nil
}

// unmarshalMatcher reads the one matcher of a bypass or no_cache line.
func (pc *Handler) unmarshalMatcher(h httpcaddyfile.Helper, opt string) error {
	set, ok, err := h.MatcherToken()
	if err != nil {
		return failf(h.Dispenser, "%s: %v", opt, err)
	}
	if !ok {
		return failf(h.Dispenser, "%s: want a matcher (@name, a path or *)", opt)
	}
	if h.NextArg() {
		return failf(h.Dispenser, "%s: takes exactly one matcher per line, got also %q", opt, h.Val())
	}
	if opt == "bypass" {
		pc.BypassRaw = append(pc.BypassRaw, set)
	} else {
		pc.NoCacheRaw = append(pc.NoCacheRaw, set)
	}
	return nil
}

// unmarshalOption reads an option whose values are all on its line.
func (pc *Handler) unmarshalOption(d *caddyfile.Dispenser, opt string, args []string) error {
	switch opt {
	case "key":
		return pc.unmarshalKey(d, args)
	case "valid":
		return pc.unmarshalValid(d, args)
	case "methods":
		if len(args) == 0 {
			return failf(d, "methods: want at least one method")
		}
		return appendChecked(d, &pc.Methods, args, cacheableMethod)
	case "min_uses":
		return pc.unmarshalMinUses(d, args)
	case "ignore_headers":
		if len(args) == 0 {
			return failf(d, "ignore_headers: want at least one of %s", strings.Join(ignorable, ", "))
		}
		return appendChecked(d, &pc.IgnoreHeaders, args, ignorableField)
	case "use_stale":
		if len(args) == 0 {
			return failf(d, "use_stale: want conditions (error timeout updating http_500 ...) or off")
		}
		pc.UseStale = append(pc.UseStale, args...)
		if _, err := parseUseStale(pc.UseStale); err != nil {
			return failf(d, "%v", err)
		}
		return nil
	case "targeted_fields":
		return pc.unmarshalTargetedFields(d, args)
	case "background_update", "lock", "revalidate", "cache_status", "cache_status_key", "x_cache_status", "forward_targeted":
		b, err := caddyopt.Switch(args)
		if err != nil {
			return failf(d, "%s: %v", opt, err)
		}
		pc.setSwitch(opt, b)
		return nil
	case "lock_timeout", "lock_age":
		return pc.unmarshalLockDuration(d, opt, args)
	case "max_object_size":
		return pc.unmarshalMaxObjectSize(d, args)
	}
	return failf(d, "unknown option %q", opt)
}

// oneArg is the only value of an option line.
func oneArg(d *caddyfile.Dispenser, opt string, args []string) (string, error) {
	if len(args) != 1 {
		return "", failf(d, "%s: want exactly one value", opt)
	}
	return args[0], nil
}

// appendChecked appends each of args to list as check spells it; the first
// value check refuses fails the line.
func appendChecked(d *caddyfile.Dispenser, list *[]string, args []string, check func(string) (string, error)) error {
	for _, a := range args {
		v, err := check(a)
		if err != nil {
			return failf(d, "%v", err)
		}
		*list = append(*list, v)
	}
	return nil
}

// unmarshalKey reads `key <template>`.
func (pc *Handler) unmarshalKey(d *caddyfile.Dispenser, args []string) error {
	v, err := oneArg(d, "key", args)
	if err != nil {
		return err
	}
	if err := checkKey(v); err != nil {
		return failf(d, "%v", err)
	}
	pc.Key = v
	return nil
}

// unmarshalValid reads `valid [<code>...|any] <duration>`; without codes
// the duration is for 200, 301 and 302, as in nginx.
func (pc *Handler) unmarshalValid(d *caddyfile.Dispenser, args []string) error {
	if len(args) == 0 {
		return failf(d, "valid: want [<status codes>|any] <duration>")
	}
	dur, err := caddy.ParseDuration(args[len(args)-1])
	if err != nil || dur < 0 {
		return failf(d, "valid: %q is not a duration (e.g. 10m, 1h, 1d)", args[len(args)-1])
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
			return failf(d, "%v", err)
		}
		pc.Valid[c] = caddy.Duration(dur)
	}
	return nil
}

// unmarshalMinUses reads `min_uses <n>`, n at least 1.
func (pc *Handler) unmarshalMinUses(d *caddyfile.Dispenser, args []string) error {
	v, err := oneArg(d, "min_uses", args)
	if err != nil {
		return err
	}
	n, perr := strconv.Atoi(v)
	if perr != nil || n < 1 {
		return failf(d, "min_uses: %q is not a number of at least 1", v)
	}
	pc.MinUses = n
	return nil
}

// unmarshalTargetedFields reads `targeted_fields <field>...|off`.
func (pc *Handler) unmarshalTargetedFields(d *caddyfile.Dispenser, args []string) error {
	if len(args) == 0 {
		return failf(d, "targeted_fields: want field names (e.g. Frontdesk-Cache-Control CDN-Cache-Control) or off")
	}
	fields := []string{}
	if len(args) != 1 || args[0] != "off" {
		fields = args
	}
	pc.TargetedFields = &fields
	if err := (&TargetedCacheControl{TargetedFields: &fields}).provision(); err != nil {
		return failf(d, "%v", err)
	}
	return nil
}

// setSwitch sets the on|off option opt.
func (pc *Handler) setSwitch(opt string, b bool) {
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
}

// unmarshalLockDuration reads `lock_timeout <duration>` or
// `lock_age <duration>`.
func (pc *Handler) unmarshalLockDuration(d *caddyfile.Dispenser, opt string, args []string) error {
	v, err := oneArg(d, opt, args)
	if err != nil {
		return err
	}
	dur, perr := caddy.ParseDuration(v)
	if perr != nil || dur <= 0 {
		return failf(d, "%s: %q is not a positive duration", opt, v)
	}
	if opt == "lock_age" {
		pc.LockAge = caddy.Duration(dur)
	} else {
		pc.LockTimeout = caddy.Duration(dur)
	}
	return nil
}

// unmarshalMaxObjectSize reads `max_object_size <size>`.
func (pc *Handler) unmarshalMaxObjectSize(d *caddyfile.Dispenser, args []string) error {
	v, err := oneArg(d, "max_object_size", args)
	if err != nil {
		return err
	}
	n, perr := caddyopt.ParseSize(v)
	if perr != nil || n <= 0 {
		return failf(d, "max_object_size: %q is not a size (e.g. 512k, 100m, 1g)", v)
	}
	pc.MaxObjectSize = n
	return nil
}

// storageNames lists the storage modules for error messages.
const storageNames = "memory, disk, redis"
