package dnsmasq

import (
	"bufio"
	"net"
	"net/netip"
	"os"
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
	f, err := os.Open(arpTable)
	if err != nil {
		return nil
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan() // header
	want := ip.String()
	for s.Scan() {
		// IP address, HW type, Flags, HW address, Mask, Device
		fs := strings.Fields(s.Text())
		if len(fs) < 4 || fs[0] != want || fs[2] == "0x0" {
			continue // flags 0x0: incomplete entry
		}
		mac, err := net.ParseMAC(fs[3])
		if err != nil || len(mac) != 6 {
			return nil
		}
		return mac
	}
	return nil
}
