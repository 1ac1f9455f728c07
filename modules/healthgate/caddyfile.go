package healthgate

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/caddyopt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func init() {
	caddyopt.RegisterHandlerDirective("healthz", caddyopt.ParseHandler[Healthz])
}

// UnmarshalCaddyfile sets up the upstream source from Caddyfile tokens,
// inside reverse_proxy's block:
//
//	dynamic healthgate [<pool>] {
//	    to      <host:port> [weight <n>] [<host:port> [weight <n>]...]
//	    backup  <host:port> [weight <n>] [<host:port> [weight <n>]...]
//	    down    <host:port>...
//	    uri     <path>
//	    method  <method>
//	    host    <host>
//	    interval <duration>
//	    timeout  <duration>
//	    expect_status <code|class|range>...
//	    expect_body   <regexp>
//	    expect_json   <field> <value>
//	    max_body <size>
//	    follow_redirects
//	    rise <n>
//	    fall <n>
//	    initially healthy|gated
//	    unavailable 502|503 [retry_after <duration>]
//	    observe off | [connect] [reset] [timeout] [5xx] [limit <n>]
//	}
//
// Every value is checked here, so a mistake fails `adapt`/`validate` with
// the file and line.
func (s *Source) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // source name
	if d.NextArg() {
		s.Pool = d.Val()
	}
	if d.NextArg() {
		return d.Errf("healthgate: unexpected argument %q (want at most a pool name)", d.Val())
	}
	downLine := map[string]int{} // each down address, the line it is on
	var downs []string
	index := map[string]int{} // each member's place in Upstreams
	for d.NextBlock(0) {
		opt := d.Val()
		args := d.RemainingArgs()
		var err error
		switch opt {
		case "to", "backup":
			err = s.addMembers(opt, args, index)
		case "down":
			if len(args) == 0 {
				return d.Errf("healthgate: down: needs at least one host:port")
			}
			for _, a := range args {
				downLine[a] = d.Line()
			}
			downs = append(downs, args...)
		default:
			err = s.setOption(opt, args)
		}
		if err != nil {
			return d.Errf("healthgate: %v", err)
		}
	}
	for _, dn := range downs {
		i, ok := index[dn]
		if !ok {
			return d.Errf("healthgate: down: %s (line %d) is not listed with to or backup", dn, downLine[dn])
		}
		s.Upstreams[i].Down = true
	}
	if len(s.Upstreams) == 0 {
		return d.Errf("healthgate: no upstreams: add `to <host:port>...`")
	}
	return nil
}

// addMembers reads a to or backup line, `<host:port> [weight <n>]...`,
// into Upstreams; index is where each member listed so far is in it.
func (s *Source) addMembers(opt string, args []string, index map[string]int) error {
	if len(args) == 0 {
		return fmt.Errorf("%s: needs at least one host:port", opt)
	}
	for i := 0; i < len(args); i++ {
		if err := checkDial(args[i]); err != nil {
			return fmt.Errorf("%s: %w", opt, err)
		}
		m := Member{Dial: args[i], Backup: opt == "backup"}
		if i+1 < len(args) && args[i+1] == "weight" {
			if i+2 >= len(args) {
				return fmt.Errorf("%s: weight of %s needs a number", opt, m.Dial)
			}
			w, err := strconv.Atoi(args[i+2])
			if err != nil {
				return fmt.Errorf("%s: weight of %s must be a whole number, got %q", opt, m.Dial, args[i+2])
			}
			if err := checkWeight(m.Dial, w); err != nil {
				return fmt.Errorf("%s: %w", opt, err)
			}
			m.Weight = w
			i += 2
		}
		if _, dup := index[m.Dial]; dup {
			return fmt.Errorf("%s: upstream %s is listed twice", opt, m.Dial)
		}
		index[m.Dial] = len(s.Upstreams)
		s.Upstreams = append(s.Upstreams, m)
	}
	return nil
}

// setOption reads an option line other than to, backup and down.
func (s *Source) setOption(opt string, args []string) error {
	switch opt {
	case "uri", "method", "host", "max_body", "follow_redirects":
		return s.setProbe(opt, args)
	case "expect_status", "expect_body", "expect_json":
		return s.setExpect(opt, args)
	case "interval", "timeout":
		return s.setPeriod(opt, args)
	case "rise", "fall":
		return s.setCount(opt, args)
	case "initially":
		if len(args) != 1 || (args[0] != "healthy" && args[0] != "gated") {
			return errors.New("initially: want healthy or gated")
		}
		s.InitiallyHealthy = args[0] == "healthy"
	case "unavailable":
		u, err := parseUnavailable(args)
		if err != nil {
			return err
		}
		s.Unavailable = u
	case "observe":
		o, err := parseObserve(args)
		if err != nil {
			return err
		}
		s.Observe = o
	default:
		return fmt.Errorf("unknown option %q (known: %s)", opt, strings.Join(sourceOptions, ", "))
	}
	return nil
}

// setProbe reads what the probe request is: uri, method, host, max_body,
// follow_redirects.
func (s *Source) setProbe(opt string, args []string) error {
	switch opt {
	case "uri":
		if len(args) != 1 {
			return errors.New("uri: want exactly one path starting with /")
		}
		if err := checkURI(args[0]); err != nil {
			return err
		}
		s.URI = args[0]
	case "method":
		if len(args) != 1 {
			return errors.New("method: want exactly one HTTP method")
		}
		if err := checkMethod(args[0]); err != nil {
			return err
		}
		s.Method = strings.ToUpper(args[0])
	case "host":
		if len(args) != 1 {
			return errors.New("host: want exactly one Host header value")
		}
		s.Host = args[0]
	case "max_body":
		if len(args) != 1 {
			return errors.New("max_body: want exactly one size (e.g. 64KiB)")
		}
		n, err := caddyopt.ParseSize(args[0])
		if err != nil {
			return fmt.Errorf("max_body: bad size %q (want e.g. 64KiB, at most 1GiB)", args[0])
		}
		if err := checkMaxBody(n); err != nil {
			return err
		}
		s.MaxBody = n
	case "follow_redirects":
		if err := caddyopt.Flag(args); err != nil {
			return fmt.Errorf("follow_redirects: %w", err)
		}
		s.FollowRedirects = true
	}
	return nil
}

// setExpect reads what a healthy answer is: expect_status, expect_body,
// expect_json.
func (s *Source) setExpect(opt string, args []string) error {
	switch opt {
	case "expect_status":
		if _, err := parseStatusSpec(args); err != nil {
			return err
		}
		s.ExpectStatus = append(s.ExpectStatus, args...)
	case "expect_body":
		if len(args) != 1 {
			return errors.New("expect_body: want exactly one regular expression (quote it if it has spaces)")
		}
		if _, err := regexp.Compile(args[0]); err != nil {
			return fmt.Errorf("expect_body: %w", err)
		}
		s.ExpectBody = args[0]
	case "expect_json":
		if len(args) != 2 {
			return errors.New("expect_json: want <field> <value>, e.g. expect_json status healthy")
		}
		if _, err := parseJSONPath(args[0]); err != nil {
			return err
		}
		s.ExpectJSON = &JSONExpectation{Path: args[0], Value: args[1]}
	}
	return nil
}

// setPeriod reads interval or timeout: one positive duration.
func (s *Source) setPeriod(opt string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s: want exactly one duration (e.g. 5s)", opt)
	}
	dur, err := caddy.ParseDuration(args[0])
	if err != nil {
		return fmt.Errorf("%s: bad duration %q: %v", opt, args[0], err)
	}
	if dur <= 0 {
		return fmt.Errorf("%s: must be positive, got %q", opt, args[0])
	}
	if opt == "interval" {
		s.Interval = caddy.Duration(dur)
	} else {
		s.Timeout = caddy.Duration(dur)
	}
	return nil
}

// setCount reads rise or fall: one count from 1 to maxCount.
func (s *Source) setCount(opt string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s: want exactly one count", opt)
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return fmt.Errorf("%s: must be a whole number from 1 to %d, got %q", opt, maxCount, args[0])
	}
	if err := checkCount(opt, n); err != nil {
		return err
	}
	if opt == "rise" {
		s.Rise = n
	} else {
		s.Fall = n
	}
	return nil
}

var sourceOptions = []string{
	"to", "backup", "down", "uri", "method", "host", "interval", "timeout", "expect_status",
	"expect_body", "expect_json", "max_body", "follow_redirects", "rise", "fall", "initially", "unavailable",
	"observe",
}

// parseObserve reads `observe off | [<class>...] [limit <n>]`.
func parseObserve(args []string) (*Observe, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("observe: want off, or error classes (connect reset timeout 5xx) and/or limit <n>")
	}
	o := &Observe{}
	if args[0] == "off" {
		if len(args) > 1 {
			return nil, fmt.Errorf("observe: off takes nothing after it, got %q", args[1])
		}
		o.Off = true
		return o, nil
	}
	for i := 0; i < len(args); i++ {
		if args[i] != "limit" {
			if _, err := parseLiveKind(args[i]); err != nil {
				return nil, err
			}
			o.Errors = append(o.Errors, args[i])
			continue
		}
		if i+2 != len(args) {
			return nil, fmt.Errorf("observe: limit wants one count, last on the line")
		}
		n, err := strconv.Atoi(args[i+1])
		if err != nil || n < 1 || n > maxErrorLimit {
			return nil, fmt.Errorf("observe: limit must be a whole number from 1 to %d, got %q", maxErrorLimit, args[i+1])
		}
		o.Limit = n
		break
	}
	return o, o.validate()
}

// parseUnavailable reads `unavailable 502|503 [retry_after <duration>]`.
func parseUnavailable(args []string) (*Unavailable, error) {
	const usage = "want 502 or 503 [retry_after <duration>]"
	if len(args) == 0 {
		return nil, fmt.Errorf("unavailable: %s", usage)
	}
	u := &Unavailable{}
	switch args[0] {
	case "502":
		u.Status = http.StatusBadGateway
	case "503":
		u.Status = http.StatusServiceUnavailable
	default:
		return nil, fmt.Errorf("unavailable: status must be 502 or 503, got %q", args[0])
	}
	rest := args[1:]
	if len(rest) == 0 {
		return u, nil
	}
	if rest[0] != "retry_after" {
		return nil, fmt.Errorf("unavailable: unexpected %q (%s)", rest[0], usage)
	}
	if u.Status != http.StatusServiceUnavailable {
		return nil, fmt.Errorf("unavailable: retry_after needs status 503 (a 502 carries no Retry-After)")
	}
	if len(rest) != 2 {
		return nil, fmt.Errorf("unavailable: retry_after wants exactly one duration (e.g. 5s)")
	}
	dur, err := caddy.ParseDuration(rest[1])
	if err != nil {
		return nil, fmt.Errorf("unavailable: retry_after: bad duration %q: %v", rest[1], err)
	}
	if dur <= 0 {
		return nil, fmt.Errorf("unavailable: retry_after must be positive, got %q", rest[1])
	}
	u.RetryAfter = caddy.Duration(dur)
	return u, nil
}

// UnmarshalCaddyfile sets up the healthz handler. Syntax:
//
//	healthz [<matcher>] [<pools...>] {
//	    pools <pools...>
//	    min_healthy <n>
//	}
func (h *Healthz) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return unmarshalPoolHandler(d, "healthz", &h.Pools, map[string]func([]string) error{
		"min_healthy": func(args []string) error {
			if len(args) != 1 {
				return errors.New("want exactly one count")
			}
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 {
				return fmt.Errorf("must be a whole number of at least 1, got %q", args[0])
			}
			h.MinHealthy = n
			return nil
		},
	})
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*Source)(nil)
	_ caddyfile.Unmarshaler = (*Healthz)(nil)
)
