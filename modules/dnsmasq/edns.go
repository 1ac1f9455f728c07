package dnsmasq

import (
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// EDNS0 option codes dnsmasq adds to or strips from forwarded queries.
const (
	optMAC      = 65001 // add-mac: the client's MAC, binary
	optDeviceID = 65073 // add-mac=base64|text: Nominum device id
	optCPEID    = 65074 // add-cpe-id: Nominum CPE id
	optUmbrella = 20292 // umbrella: Cisco Umbrella (OpenDNS) data
)

// ednsActive reports whether any of the options is set.
func ednsActive(e *conf.EDNSConfig) bool {
	return e.AddSubnet || e.StripSubnet || e.AddMAC != "" || e.StripMAC || e.HasCPEID || e.Umbrella
}

// ednsUsesClient reports whether the options need the client's address.
func ednsUsesClient(e *conf.EDNSConfig) bool {
	return e.AddSubnet || e.AddMAC != "" || e.Umbrella
}

// clientAddr is the IP address of a client, unmapped; invalid when unknown.
func clientAddr(client net.Addr) netip.Addr {
	switch a := client.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	if client != nil {
		if ap, err := netip.ParseAddrPort(client.String()); err == nil {
			return ap.Addr().Unmap()
		}
	}
	return netip.Addr{}
}

// subnetOption is the EDNS Client Subnet option add-subnet sends for a
// client; cacheable is false when it depends on the client's address.
func subnetOption(e *conf.EDNSConfig, client netip.Addr) (opt *dns.EDNS0_SUBNET, cacheable bool) {
	spec := e.Subnet4
	if client.Is6() {
		spec = e.Subnet6
	}
	a := spec.Fixed
	cacheable = true
	if !a.IsValid() {
		if spec.Bits == 0 || !client.IsValid() {
			// Length 0: the family of the client, no address bits.
			a = netip.IPv4Unspecified()
			if client.Is6() {
				a = netip.IPv6Unspecified()
			}
		} else {
			a, cacheable = client, false
		}
	}
	bits := min(spec.Bits, a.BitLen())
	pfx, _ := a.Prefix(bits)
	opt = &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(bits), Address: net.IP(pfx.Addr().AsSlice())}
	if a.Is6() {
		opt.Family = 2
	}
	return opt, cacheable
}

// umbrellaOption is the Umbrella (OpenDNS) option for a client: "ODNS",
// version 1, flags 0, then fields each after a 16-bit type: the org id
// (0x08), the client's address (0x10 IPv4, 0x20 IPv6), the device id
// (0x40) and the asset id (0x04), in the order dnsmasq 2.90 writes them
// (measured).
func umbrellaOption(e *conf.EDNSConfig, client netip.Addr) []byte {
	b := []byte{'O', 'D', 'N', 'S', 1, 0}
	if e.HasOrg {
		b = binary.BigEndian.AppendUint32(append(b, 0, 0x08), e.UmbrellaOrg)
	}
	switch {
	case client.Is4():
		b = append(append(b, 0, 0x10), client.AsSlice()...)
	case client.Is6():
		b = append(append(b, 0, 0x20), client.AsSlice()...)
	}
	if e.UmbrellaDevice != nil {
		b = append(append(b, 0, 0x40), e.UmbrellaDevice...)
	}
	if e.HasAsset {
		b = binary.BigEndian.AppendUint32(append(b, 0, 0x04), e.UmbrellaAsset)
	}
	return b
}

// macOption is the add-mac option for a client MAC.
func macOption(e *conf.EDNSConfig, mac net.HardwareAddr) dns.EDNS0 {
	switch e.AddMAC {
	case "base64":
		return &dns.EDNS0_LOCAL{Code: optDeviceID, Data: []byte(base64.StdEncoding.EncodeToString(mac))}
	case "text":
		return &dns.EDNS0_LOCAL{Code: optDeviceID, Data: []byte(mac.String())}
	}
	return &dns.EDNS0_LOCAL{Code: optMAC, Data: append([]byte(nil), mac...)}
}

// forwardOptions returns the EDNS0 options of a forwarded query: the
// client's own options (in their order), less the ones strip-subnet and
// strip-mac remove and the ones dnsmasq replaces (a MAC option it adds,
// add-cpe-id, umbrella), then the added ones, in dnsmasq's order: MAC, CPE
// id, Umbrella, client subnet. add-subnet keeps a subnet the client sent,
// unless strip-subnet. cacheable is false when the options depend on the
// client's address or MAC (dnsmasq does not cache such replies).
func forwardOptions(e *conf.EDNSConfig, in []dns.EDNS0, client net.Addr) (out []dns.EDNS0, cacheable bool) {
	cacheable = true
	if !ednsActive(e) {
		return in, true
	}
	ip := clientAddr(client)
	var added []dns.EDNS0
	drop := map[uint16]bool{}
	if e.StripSubnet {
		drop[dns.EDNS0SUBNET] = true
	}
	if e.StripMAC {
		drop[optMAC], drop[optDeviceID] = true, true
	}
	if e.AddMAC != "" && ip.IsValid() {
		if mac := lookupMAC(ip); mac != nil {
			o := macOption(e, mac)
			added = append(added, o)
			drop[o.Option()] = true
			cacheable = false
		}
	}
	if e.HasCPEID {
		added = append(added, &dns.EDNS0_LOCAL{Code: optCPEID, Data: []byte(e.CPEID)})
		drop[optCPEID] = true
	}
	if e.Umbrella {
		added = append(added, &dns.EDNS0_LOCAL{Code: optUmbrella, Data: umbrellaOption(e, ip)})
		drop[optUmbrella] = true
		cacheable = cacheable && !ip.IsValid()
	}
	hasSubnet := false
	for _, o := range in {
		if drop[o.Option()] {
			continue
		}
		if o.Option() == dns.EDNS0SUBNET {
			hasSubnet = true
		}
		out = append(out, o)
	}
	if e.AddSubnet {
		// The cache decision is dnsmasq's: by configuration, whether or
		// not the client sent its own subnet (measured).
		o, c := subnetOption(e, ip)
		cacheable = cacheable && c
		if !hasSubnet {
			added = append(added, o)
		}
	}
	return append(out, added...), cacheable
}

// subnetMatches reports whether a reply without a client subnet option, or
// with the one in want (family, source length and address; the scope does
// not count).
func subnetMatches(r *dns.Msg, want *dns.EDNS0_SUBNET) bool {
	o := r.IsEdns0()
	if o == nil {
		return true
	}
	for _, e := range o.Option {
		s, ok := e.(*dns.EDNS0_SUBNET)
		if !ok {
			continue
		}
		if s.Family != want.Family || s.SourceNetmask != want.SourceNetmask {
			return false
		}
		a, ok1 := netip.AddrFromSlice(s.Address)
		b, ok2 := netip.AddrFromSlice(want.Address)
		if !ok1 || !ok2 {
			return false
		}
		pa, err1 := a.Unmap().Prefix(int(s.SourceNetmask))
		pb, err2 := b.Unmap().Prefix(int(want.SourceNetmask))
		return err1 == nil && err2 == nil && pa == pb
	}
	return true
}
