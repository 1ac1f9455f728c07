package conf

import (
	"fmt"
	"strconv"
)

// arg is an option as written: its name, its value after the '=', and
// whether there was a '='.
type arg struct {
	name, val string
	has       bool
}

// needVal refuses a missing or empty value.
func (o arg) needVal() error {
	if !o.has || o.val == "" {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	return nil
}

// appendParsed parses the value of o, which must have one, with parse and
// appends it to list: the parse function of a repeatable option.
func appendParsed[T any](list *[]T, o arg, parse func(string) (T, error)) error {
	if err := o.needVal(); err != nil {
		return err
	}
	v, err := parse(o.val)
	if err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// noVal refuses a value: the option is a flag.
func (o arg) noVal() error {
	if o.has {
		return fmt.Errorf("--%s takes no argument", o.name)
	}
	return nil
}

// u32 reads a TTL like dnsmasq's atoi_check: digits only, the empty
// value is 0, and the C int is kept as the 32 bits sent on the wire.
func (o arg) u32(dst *uint32) error {
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	n, ok := atoiCheck(o.val)
	if !ok {
		return badArg(o.name)
	}
	*dst = uint32(n)
	return nil
}

// flag is the parse function of a flag: set turns it on; a value is refused.
func flag(set func(c *Config)) parseFunc {
	return func(p *parser, o arg) error {
		set(p.c)
		return o.noVal()
	}
}

// intIn is the parse function of an option with one decimal value from
// lo to hi (strconv.Atoi's syntax); set stores it.
func intIn(lo, hi int, set func(c *Config, n int)) parseFunc {
	return func(p *parser, o arg) error {
		if err := o.needVal(); err != nil {
			return err
		}
		n, err := strconv.Atoi(o.val)
		if err != nil || n < lo || n > hi {
			return badArg(o.name)
		}
		set(p.c, n)
		return nil
	}
}

// accept is the parse function of an option accepted and ignored.
func accept(*parser, arg) error { return nil }
