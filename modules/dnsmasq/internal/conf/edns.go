package conf

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// SubnetSpec is one half (IPv4 or IPv6 client) of add-subnet: the prefix
// length sent and, when given, a fixed address sent instead of the client's.
type SubnetSpec struct {
	Bits  int
	Fixed netip.Addr // invalid = the client's address
}

// EDNSConfig is what add-subnet, strip-subnet, add-mac, strip-mac,
// add-cpe-id and umbrella do to the EDNS0 options of forwarded queries.
type EDNSConfig struct {
	AddSubnet                  bool
	Subnet4                    SubnetSpec // for IPv4 clients
	Subnet6                    SubnetSpec // for IPv6 clients
	StripSubnet                bool
	AddMAC                     string // "" = off, "binary", "base64" or "text"
	StripMAC                   bool
	CPEID                      string // add-cpe-id
	HasCPEID                   bool
	Umbrella                   bool
	UmbrellaOrg, UmbrellaAsset uint32
	HasOrg, HasAsset           bool
	UmbrellaDevice             []byte // 8 bytes, nil = none
}

// parseSubnet reads add-subnet[=[addr/]len[,[addr/]len]]. An empty part
// means length 0. Unlike dnsmasq, which accepts any number, a length longer
// than the address fails.
func parseSubnet(val string) (SubnetSpec, SubnetSpec, error) {
	bad := errors.New("bad argument to --add-subnet")
	parts := strings.Split(val, ",")
	if len(parts) > 2 {
		return SubnetSpec{}, SubnetSpec{}, bad
	}
	var specs [2]SubnetSpec
	for i, p := range parts {
		if p == "" {
			continue
		}
		if a, l, ok := strings.Cut(p, "/"); ok {
			pfx, err := netip.ParsePrefix(a + "/" + l)
			if err != nil {
				return SubnetSpec{}, SubnetSpec{}, bad
			}
			specs[i] = SubnetSpec{Bits: pfx.Bits(), Fixed: pfx.Addr().Unmap()}
			continue
		}
		n, err := strconv.Atoi(p)
		limit := 32
		if i == 1 {
			limit = 128
		}
		if err != nil || n < 0 || n > limit {
			return SubnetSpec{}, SubnetSpec{}, bad
		}
		specs[i].Bits = n
	}
	return specs[0], specs[1], nil
}

// parseUmbrella reads umbrella[=deviceid:<16 hex>][,orgid:<n>][,assetid:<n>].
func (e *EDNSConfig) parseUmbrella(val string, hasVal bool) error {
	e.Umbrella = true
	if !hasVal {
		return nil
	}
	bad := errors.New("bad argument to --umbrella")
	if val == "" {
		return bad
	}
	for _, f := range strings.Split(val, ",") {
		k, v, ok := strings.Cut(f, ":")
		if !ok {
			return bad
		}
		switch k {
		case "deviceid":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != 8 {
				return bad
			}
			e.UmbrellaDevice = b
		case "orgid", "assetid":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return bad
			}
			if k == "orgid" {
				e.UmbrellaOrg, e.HasOrg = uint32(n), true
			} else {
				e.UmbrellaAsset, e.HasAsset = uint32(n), true
			}
		default:
			return bad
		}
	}
	return nil
}

// optAddSubnet parses add-subnet.
func optAddSubnet(p *parser, o arg) error {
	c := p.c
	c.EDNS.AddSubnet = true
	s4, s6, err := parseSubnet(o.val)
	if err != nil {
		return err
	}
	c.EDNS.Subnet4, c.EDNS.Subnet6 = s4, s6
	return nil
}

// optAddMAC parses add-mac.
func optAddMAC(p *parser, o arg) error {
	c := p.c
	switch {
	case !o.has:
		c.EDNS.AddMAC = "binary"
	case o.val == "base64" || o.val == "text":
		c.EDNS.AddMAC = o.val
	default:
		return badArg(o.name)
	}
	return nil
}

// optAddCPEID parses add-cpe-id.
func optAddCPEID(p *parser, o arg) error {
	c := p.c
	if !o.has {
		return fmt.Errorf("missing argument to --%s", o.name)
	}
	if len(o.val) > 255 {
		return badArg(o.name)
	}
	c.EDNS.CPEID, c.EDNS.HasCPEID = o.val, true
	return nil
}

// optUmbrella parses umbrella.
func optUmbrella(p *parser, o arg) error {
	c := p.c
	return c.EDNS.parseUmbrella(o.val, o.has)
}
