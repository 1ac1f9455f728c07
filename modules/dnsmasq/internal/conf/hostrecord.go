package conf

import (
	"errors"
	"fmt"
	"net/netip"
)

// readHostRecord reads the fields of host-record= as dnsmasq 2.90 does
// (option.c, --host-record), in any order: a field of digits is the TTL,
// and so is an empty field (atoi("") = 0: "name,,addr" and a trailing comma
// set TTL 0, measured); then an IPv4 or IPv6 address, a later one replacing
// an earlier one of its family (an IPv4-mapped IPv6 address stays IPv6);
// anything else is a name. A line with names and no address (or the
// reverse) is accepted and defines nothing. ttl is -1 for local-ttl.
func readHostRecord(val string) (names []string, v4, v6 netip.Addr, ttl int, err error) {
	parts := fields(val)
	if len(parts) < 2 {
		return nil, v4, v6, 0, errors.New("bad argument to --host-record")
	}
	ttl = -1
	for _, f := range parts {
		if n, ok := atoiCheck(f); ok {
			ttl = wireTTL(n)
			continue
		}
		if a, err := ParseAddr(f); err == nil {
			if a.Is4() {
				v4 = a
			} else {
				v6 = a
			}
			continue
		}
		if !ValidName(f) {
			return nil, v4, v6, 0, errors.New("bad name in --host-record")
		}
		names = append(names, NameKey(f))
	}
	return names, v4, v6, ttl, nil
}

// hostRecord reads host-record=<name>[,<name>...],[<IPv4>],[<IPv6>][,<TTL>]
// as dnsmasq 2.90 does (option.c): the line needs a comma; each field is a
// TTL when it is all digits (an empty field too: TTL 0), else an IPv4 or
// IPv6 address (a later one of a family replaces an earlier one), else a
// name, wherever it stands. A line without names or addresses is accepted
// and defines nothing.
func (p *parser) hostRecord(val string) error {
	names, v4, v6, ttl, err := readHostRecord(val)
	if err != nil {
		return err
	}
	var addrs []netip.Addr
	for _, a := range []netip.Addr{v4, v6} {
		if a.IsValid() {
			addrs = append(addrs, a)
		}
	}
	for i, n := range names {
		for _, a := range addrs {
			// Only the first name answers the reverse (PTR) query.
			p.c.Hosts = append(p.c.Hosts, HostEntry{Name: n, Addr: a, TTL: ttl, Reverse: i == 0})
		}
	}
	return nil
}

// cname reads cname=<alias>[,<alias>...],<target>[,<ttl>] as dnsmasq
// does (option.c, --cname): with three fields or more, a last field of
// digits (or empty: 0) is the TTL; an empty alias or target is the root.
func (p *parser) cname(val string) error {
	parts := fields(val)
	ttl := -1
	if len(parts) >= 3 {
		if n, ok := atoiCheck(parts[len(parts)-1]); ok {
			ttl = wireTTL(n)
			parts = parts[:len(parts)-1]
		}
	}
	if len(parts) < 2 {
		return errors.New("bad CNAME")
	}
	target, ok := ownerName(parts[len(parts)-1])
	if !ok {
		return errors.New("bad CNAME")
	}
	for _, n := range parts[:len(parts)-1] {
		alias, ok := ownerName(n)
		if !ok {
			return errors.New("bad CNAME")
		}
		for _, existing := range p.c.CNAMEs {
			if existing.Name == alias {
				return errors.New("duplicate CNAME")
			}
		}
		p.c.CNAMEs = append(p.c.CNAMEs, CNAMERec{Name: alias, Target: target, TTL: ttl})
		if cnameLoop(p.c.CNAMEs, alias) {
			return fmt.Errorf("CNAME loop involving %s", alias)
		}
	}
	return nil
}

// cnameLoop reports whether following the cname chain from alias comes
// back to it. dnsmasq refuses a configuration with a loop (option.c, read_opts).
func cnameLoop(cnames []CNAMERec, alias string) bool {
	next := make(map[string]string, len(cnames))
	for _, c := range cnames {
		next[c.Name] = c.Target
	}
	cur := alias
	for range cnames {
		t, ok := next[cur]
		if !ok {
			return false
		}
		if t == alias {
			return true
		}
		cur = t
	}
	return false
}

// wireTTL is the TTL a record with the C int ttl from dnsmasq's atoi has on
// the wire; -1 stays -1, dnsmasq's "local-ttl".
func wireTTL(n int32) int {
	if n < -1 {
		return int(uint32(n))
	}
	return int(n)
}

// optHostRecord parses host-record.
func optHostRecord(p *parser, o arg) error {
	return p.hostRecord(o.val)
}

// optCNAME parses cname.
func optCNAME(p *parser, o arg) error {
	return p.cname(o.val)
}
