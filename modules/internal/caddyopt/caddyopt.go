// Package caddyopt holds the small option forms that several modules' Caddyfile
// and JSON configurations share: on/off switches, flags, optional booleans with a
// default, durations with a lower bound, and byte sizes as nginx writes
// them; and the registration of their handler directives (directive.go).
package caddyopt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// Switch reads the arguments of an on/off option: exactly one of "on" or "off".
func Switch(args []string) (bool, error) {
	if len(args) != 1 {
		return false, fmt.Errorf("want on or off")
	}
	switch args[0] {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, fmt.Errorf("want on or off, got %q", args[0])
}

// Flag checks the arguments of an option that is set by being present,
// such as header_policy's forwarded: there must be none.
func Flag(args []string) error {
	if len(args) != 0 {
		return errors.New("takes no arguments")
	}
	return nil
}

// DurationAtLeast reads the arguments of an option that takes one duration
// of at least min, such as a page's refresh interval.
func DurationAtLeast(args []string, min time.Duration) (caddy.Duration, error) {
	if len(args) != 1 {
		return 0, errors.New("want exactly one duration")
	}
	dur, err := caddy.ParseDuration(args[0])
	if err != nil || dur < min {
		return 0, fmt.Errorf("want a duration of at least %s, got %q", min, args[0])
	}
	return caddy.Duration(dur), nil
}

// DurationOr sets *d to def when it is not set, and checks that it is at
// least min: DurationAtLeast's rule for a JSON config.
func DurationOr(d *caddy.Duration, def, min time.Duration) error {
	if *d == 0 {
		*d = caddy.Duration(def)
	}
	if time.Duration(*d) < min {
		return fmt.Errorf("must be at least %s, got %s", min, time.Duration(*d))
	}
	return nil
}

// BoolOr returns *b, or def when the option was not set.
func BoolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// Size units, powers of 1024 as in nginx's size arguments.
const (
	KiB int64 = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
)

// ParseSize reads a byte size as nginx writes it: a whole number with an
// optional k, m, g or t suffix, in powers of 1024, in any case; "kb", "KiB"
// and "64MB" are read the same way ("64MB" is 64 MiB, as in nginx).
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	t = strings.TrimSuffix(t, "i")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = KiB
		case 'm':
			mult = MiB
		case 'g':
			mult = GiB
		case 't':
			mult = TiB
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
