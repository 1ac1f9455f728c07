package netutil

import (
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// OOBSize is room for an IPv4 or IPv6 packet-info control message.
var OOBSize = max(len(ipv4.NewControlMessage(ipv4.FlagDst|ipv4.FlagInterface)), len(ipv6.NewControlMessage(ipv6.FlagDst|ipv6.FlagInterface)))

// ParseDst is the destination address of a datagram from its control
// messages, as miekg/dns reads it (IPv6 first, then IPv4).
func ParseDst(oob []byte) netip.Addr {
	cm6 := new(ipv6.ControlMessage)
	if cm6.Parse(oob) == nil && cm6.Dst != nil {
		a, _ := netip.AddrFromSlice(cm6.Dst)
		return a.Unmap()
	}
	cm4 := new(ipv4.ControlMessage)
	if cm4.Parse(oob) == nil && cm4.Dst != nil {
		a, _ := netip.AddrFromSlice(cm4.Dst)
		return a.Unmap()
	}
	return netip.Addr{}
}

// SrcOOB is the control message that sends a reply from src, as miekg/dns
// writes it.
func SrcOOB(src netip.Addr) []byte {
	if src.Is4() {
		return (&ipv4.ControlMessage{Src: src.AsSlice()}).Marshal()
	}
	return (&ipv6.ControlMessage{Src: src.AsSlice()}).Marshal()
}
