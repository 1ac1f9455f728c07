package dnsmasq

import (
	"net"
	"net/netip"
	"strings"
)

// arpTable is the kernel's IPv4 neighbour table; a variable so tests can
// replace it.
var arpTable = "/proc/net/arp"

// lookupMAC returns the MAC address of a client on a directly connected
// network, from the kernel's ARP table, or nil (loopback clients, IPv6
// clients and clients behind a router have none).
func lookupMAC(ip netip.Addr) net.HardwareAddr {
	if !ip.Is4() || ip.IsLoopback() {
		return nil
	}
	want := ip.String()
	var mac net.HardwareAddr
	_ = eachLine(arpTable, func(line string) bool {
		// IP address, HW type, Flags, HW address, Mask, Device (the
		// header line never matches)
		fs := strings.Fields(line)
		if len(fs) < 4 || fs[0] != want || fs[2] == "0x0" {
			return true // flags 0x0: incomplete entry
		}
		if m, err := net.ParseMAC(fs[3]); err == nil && len(m) == 6 {
			mac = m
		}
		return false
	})
	return mac
}
