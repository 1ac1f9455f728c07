package conf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// splitDomains splits "/d1/d2/rest" into the domains and the rest.
func splitDomains(val string) (domains []string, rest string, ok bool) {
	if !strings.HasPrefix(val, "/") {
		return nil, val, true
	}
	i := strings.LastIndex(val, "/")
	if i == 0 {
		return nil, "", false
	}
	// Spaces before the address are skipped (address=/d/ 1.2.3.4 answers
	// 1.2.3.4 in dnsmasq, measured).
	return strings.Split(val[1:i], "/"), strings.TrimLeft(val[i+1:], " "), true
}

// parseFastRetry reads fast-dns-retry=<delay ms>[,<total ms>].
func parseFastRetry(val string) (delay, total time.Duration, err error) {
	bad := errors.New("bad argument to --fast-dns-retry")
	f := strings.Split(val, ",")
	if len(f) > 2 {
		return 0, 0, bad
	}
	ms := []int{1000, 10000}
	for i, s := range f {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return 0, 0, bad
		}
		ms[i] = n
	}
	return time.Duration(ms[0]) * time.Millisecond, time.Duration(ms[1]) * time.Millisecond, nil
}

// ParseUpstream parses ip[#port][@interface][@source-ip[#port]].
func ParseUpstream(s string) (Upstream, error) {
	s, at, hasAt := strings.Cut(s, "@")
	u, err := parseServerAddr(s)
	if err != nil || !hasAt {
		return u, err
	}
	for _, part := range strings.Split(at, "@") {
		if part == "" {
			continue // dnsmasq accepts a bare '@'
		}
		host, port, hasPort := strings.Cut(part, "#")
		a, err := netip.ParseAddr(host)
		if err != nil {
			if u.Iface != "" {
				return Upstream{}, errors.New("interface can only be specified once")
			}
			if hasPort || len(part) >= 16 || strings.ContainsAny(part, " /") {
				return Upstream{}, errors.New("bad interface name")
			}
			u.Iface = part
			continue
		}
		if u.Source.IsValid() {
			return Upstream{}, errors.New("source address can only be specified once")
		}
		n := 0
		if hasPort {
			if n, err = strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return Upstream{}, errors.New("bad port")
			}
		}
		srv := netip.MustParseAddrPort(u.Addr).Addr()
		a = a.Unmap()
		if srv.Is4() && !a.Is4() {
			return Upstream{}, errors.New("cannot use IPv4 server address with IPv6 source address")
		}
		if srv.Is6() && a.Is4() {
			return Upstream{}, errors.New("cannot use IPv6 server address with IPv4 source address")
		}
		u.Source = netip.AddrPortFrom(a, uint16(n))
	}
	return u, nil
}

// parseServerAddr parses ip[#port].
func parseServerAddr(s string) (Upstream, error) {
	host, port := s, "53"
	if h, p, ok := strings.Cut(s, "#"); ok {
		host, port = h, p
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return Upstream{}, errors.New("bad port")
		}
	}
	host, _, _ = strings.Cut(host, "%") // zone ids are accepted and dropped
	a, err := netip.ParseAddr(host)
	if err != nil {
		var ok bool
		if a, ok = inetAton(host); !ok {
			return Upstream{}, errors.New("bad address")
		}
	}
	return Upstream{Addr: net.JoinHostPort(a.Unmap().String(), port)}, nil
}

func ruleDomain(d string) (string, bool, error) {
	wild := false
	if strings.HasPrefix(d, "*") {
		wild = true
		d = d[1:]
		if strings.HasPrefix(d, ".") { // *.example.com: subdomains only
			if !ValidName(d) {
				return "", false, errors.New("bad domain")
			}
			return "." + NameKey(d), true, nil
		}
	}
	d = strings.TrimPrefix(d, ".") // historical /.example.com/ == /example.com/
	if d != "" && !ValidName(d) {
		return "", false, errors.New("bad domain")
	}
	return NameKey(d), wild, nil
}

func (p *parser) server(opt, val string, hasVal bool) error {
	if !hasVal {
		return fmt.Errorf("missing argument to --%s", opt)
	}
	if val == "" {
		// No domain and no address: dnsmasq makes the local rule for
		// every name, as server=/#/ (option.c, --server).
		p.c.Rules = append(p.c.Rules, DomainRule{Domain: CatchAll, Local: true})
		return nil
	}
	doms, rest, ok := splitDomains(val)
	if !ok {
		return fmt.Errorf("bad domain in --%s", opt)
	}
	if doms == nil { // plain upstream
		u, err := ParseUpstream(rest)
		if err != nil {
			return fmt.Errorf("bad address in --%s: %v", opt, err)
		}
		p.c.Servers = append(p.c.Servers, u)
		return nil
	}
	for _, d := range doms {
		name, wild, err := ruleDomain(d)
		if d == CatchAll {
			// server=/#/ip is a plain server (dnsmasq gives both the
			// domain ""); /#/ and /#/# are rules for every name.
			if rest != "" && rest != "#" {
				u, err := ParseUpstream(rest)
				if err != nil {
					return fmt.Errorf("bad address in --%s: %v", opt, err)
				}
				p.c.Servers = append(p.c.Servers, u)
				continue
			}
			name, err = CatchAll, nil
		}
		if err != nil {
			return fmt.Errorf("bad domain in --%s", opt)
		}
		r := DomainRule{Domain: name, Wildcard: wild}
		switch rest {
		case "":
			r.Local = true
		case "#":
			r.Standard = true
		default:
			u, err := ParseUpstream(rest)
			if err != nil {
				return fmt.Errorf("bad address in --%s: %v", opt, err)
			}
			r.Servers = []Upstream{u}
		}
		p.c.Rules = append(p.c.Rules, r)
	}
	return nil
}

func (p *parser) address(val string) error {
	doms, rest, ok := splitDomains(val)
	if !ok {
		return errors.New("bad address in --address")
	}
	if doms == nil {
		// No domain (address=, address=1.2.3.4): dnsmasq gives the rule
		// to every name, as address=/#/ (option.c, --address).
		doms = []string{CatchAll}
	}
	var r DomainRule
	switch rest {
	case "":
		r.NX = true
	case "#":
		r.Null = true
	default:
		a, err := ParseAddr(rest)
		if err != nil {
			return errors.New("bad address in --address")
		}
		r.Addrs = []netip.Addr{a} // an IPv4-mapped address answers AAAA (measured)
	}
	for _, d := range doms {
		rr := r
		if d == CatchAll {
			rr.Domain = CatchAll
		} else {
			// An empty domain (address=//1.2.3.4) is dotless names', as
			// server=// is (option.c SERV_FOR_NODOTS).
			name, wild, err := ruleDomain(d)
			if err != nil {
				return errors.New("bad domain in --address")
			}
			rr.Domain, rr.Wildcard = name, wild
		}
		p.c.Rules = append(p.c.Rules, rr)
	}
	return nil
}

func (p *parser) revServer(val string) error {
	spec, server, _ := strings.Cut(val, ",")
	pfx, err := parsePrefix(spec)
	if err != nil {
		return errors.New("bad prefix in --rev-server")
	}
	domains, err := ReverseZones(pfx)
	if err != nil {
		return err
	}
	r := DomainRule{Local: server == ""}
	if server != "" {
		u, err := ParseUpstream(server)
		if err != nil {
			return fmt.Errorf("bad address in --rev-server: %v", err)
		}
		r.Servers = []Upstream{u}
	}
	for _, d := range domains {
		rr := r
		rr.Domain = d
		p.c.Rules = append(p.c.Rules, rr)
	}
	return nil
}

// ReverseZones is the in-addr.arpa/ip6.arpa domain of a prefix; dnsmasq
// rounds the prefix down to a whole label (8 bits for IPv4, 4 for IPv6).
func ReverseZones(pfx netip.Prefix) ([]string, error) {
	a := pfx.Addr().Unmap()
	bits := pfx.Bits()
	if a.Is4() {
		if bits < 1 || bits > 32 {
			return nil, errors.New("bad prefix length in --rev-server")
		}
		b := a.As4()
		var labels []string
		for i := 0; i < bits/8; i++ {
			labels = append([]string{strconv.Itoa(int(b[i]))}, labels...)
		}
		return []string{strings.Join(append(labels, "in-addr", "arpa"), ".")}, nil
	}
	if bits < 1 || bits > 128 {
		return nil, errors.New("bad prefix length in --rev-server")
	}
	b := a.As16()
	var labels []string
	for i := 0; i < bits/4; i++ {
		nib := b[i/2] >> 4
		if i%2 == 1 {
			nib = b[i/2] & 0xf
		}
		labels = append([]string{strconv.FormatUint(uint64(nib), 16)}, labels...)
	}
	return []string{strings.Join(append(labels, "ip6", "arpa"), ".")}, nil
}

// optFastDNSRetry parses fast-dns-retry.
func optFastDNSRetry(p *parser, o arg) error {
	c := p.c
	c.FastRetry, c.FastRetryFor = time.Second, 10*time.Second // dnsmasq's defaults
	if o.has {
		d, total, err := parseFastRetry(o.val)
		if err != nil {
			return err
		}
		c.FastRetry, c.FastRetryFor = d, total
	}
	return nil
}

// optServer parses server, local.
func optServer(p *parser, o arg) error {
	return p.server(o.name, o.val, o.has)
}

// optAddress parses address.
func optAddress(p *parser, o arg) error {
	return p.address(o.val)
}

// optRevServer parses rev-server.
func optRevServer(p *parser, o arg) error {
	return p.revServer(o.val)
}

// optResolvFile parses resolv-file.
func optResolvFile(p *parser, o arg) error {
	c := p.c
	if !o.has || o.val == "" {
		c.NoResolv = true // dnsmasq: an empty resolv-file means none
		return nil
	}
	c.ResolvFiles = append(c.ResolvFiles, o.val)
	return nil
}
