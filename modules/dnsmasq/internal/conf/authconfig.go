package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// AuthConfig is what the auth-* options say: dnsmasq's authoritative mode.
type AuthConfig struct {
	Server     string       // auth-server=<domain>: the SOA primary and the NS of the zones
	Addrs      []netip.Addr // auth-server addresses: queries arriving there are answered authoritatively
	Ifaces     []string     // auth-server interfaces, each optionally with /4 or /6
	Zones      []AuthZone   // auth-zone=
	Serial     uint32       // auth-soa= serial (HasSerial); default: the time of the config load
	HasSerial  bool
	Hostmaster string       // auth-soa hostmaster (default hostmaster.<auth-server>)
	Refresh    uint32       // default 1200
	Retry      uint32       // default 180
	Expiry     uint32       // default 1209600
	Secondary  []string     // auth-sec-servers=
	Peers      []netip.Addr // auth-peer=
	TTL        uint32       // auth-ttl= (default 600)
}

// AuthZone is one auth-zone= line.
type AuthZone struct {
	Domain  string         // lower case, no dots at the ends
	Subnets []netip.Prefix // A/AAAA records must be in one of them (none: any address)
	Exclude []netip.Prefix // exclude: subnets
}

func defaultAuth() AuthConfig {
	return AuthConfig{Refresh: 1200, Retry: 180, Expiry: 1209600, TTL: 600}
}

// authServer parses auth-server.
func authServer(a *AuthConfig, _ arg, f []string) error {
	if !ValidName(f[0]) {
		return errors.New("bad domain in --auth-server")
	}
	a.Server = NameKey(f[0])
	for _, s := range f[1:] {
		if s == "" {
			continue
		}
		if ip, err := ParseAddr(s); err == nil {
			a.Addrs = append(a.Addrs, ip.Unmap())
			continue
		}
		iface, fam, _ := strings.Cut(s, "/")
		if iface == "" || fam != "" && fam != "4" && fam != "6" {
			return errors.New("bad interface in --auth-server")
		}
		a.Ifaces = append(a.Ifaces, s)
	}
	return nil
}

// authZone parses auth-zone.
func authZone(a *AuthConfig, o arg, f []string) error {
	if !ValidName(f[0]) {
		return errors.New("bad domain in --auth-zone")
	}
	z := AuthZone{Domain: NameKey(f[0])}
	for _, s := range f[1:] {
		spec, exclude := strings.CutPrefix(s, "exclude:")
		pfx, err := authSubnet(spec)
		if err != nil {
			return fmt.Errorf("bad subnet in --auth-zone: %q (an interface name is not supported yet)", s)
		}
		if exclude {
			z.Exclude = append(z.Exclude, pfx)
		} else {
			z.Subnets = append(z.Subnets, pfx)
		}
	}
	a.Zones = append(a.Zones, z)
	return nil
}

// authSOA parses auth-soa.
func authSOA(a *AuthConfig, o arg, f []string) error {
	if len(f) > 5 {
		f = f[:5] // dnsmasq ignores more fields
	}
	nums := []*uint32{&a.Serial, nil, &a.Refresh, &a.Retry, &a.Expiry}
	for i, s := range f {
		if i == 1 {
			// dnsmasq reads an e-mail address: admin@example.com.
			h := strings.ReplaceAll(s, "@", ".")
			if !ValidName(h) {
				return errors.New("bad hostmaster in --auth-soa")
			}
			a.Hostmaster = NameKey(h)
			continue
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return badArg(o.name)
		}
		*nums[i] = uint32(n)
	}
	a.HasSerial = true
	return nil
}

// authSecServers parses auth-sec-servers.
func authSecServers(a *AuthConfig, _ arg, f []string) error {
	for _, s := range f {
		if !ValidName(s) {
			return errors.New("bad domain in --auth-sec-servers")
		}
		a.Secondary = append(a.Secondary, NameKey(s))
	}
	return nil
}

// authPeer parses auth-peer.
func authPeer(a *AuthConfig, _ arg, f []string) error {
	for _, s := range f {
		ip, err := ParseAddr(s)
		if err != nil {
			return errors.New("bad address in --auth-peer")
		}
		a.Peers = append(a.Peers, ip.Unmap())
	}
	return nil
}

// authTTL parses auth-ttl.
func authTTL(a *AuthConfig, o arg, _ []string) error {
	n, ok := atoiCheck(o.val) // dnsmasq: the empty value is 0
	if !ok {
		return badArg(o.name)
	}
	a.TTL = uint32(n)
	return nil
}

// authSubnet reads <address>[/<prefix length>]; the length defaults to 24
// for IPv4 and 64 for IPv6, as dnsmasq's does.
func authSubnet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), p.Addr().Unmap().BitLen())).Masked(), nil
	}
	a, err := ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	bits := 64
	if a.Is4() {
		bits = 24
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// authValue is the parse function of an auth-* option: a value is
// required, and may be empty only for auth-ttl; set reads its
// comma-separated fields into c.Auth.
func authValue(set func(a *AuthConfig, o arg, f []string) error) parseFunc {
	return func(p *parser, o arg) error {
		if !o.has {
			return fmt.Errorf("missing argument to --%s", o.name)
		}
		if o.val == "" && o.name != "auth-ttl" {
			return fmt.Errorf("missing argument to --%s", o.name)
		}
		return set(&p.c.Auth, o, strings.Split(o.val, ","))
	}
}
