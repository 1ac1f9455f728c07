package netfilter

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// The netlink encodings, checked byte for byte against what the kernel's
// attribute layout asks for (little-endian host).
func TestIpsetAddMsg(t *testing.T) {
	got := hex.EncodeToString(ipsetAddMsg(7, "s4", netip.MustParseAddr("10.1.2.3")))
	want := "34000000" + "0906" + "0500" + "07000000" + "00000000" + // nlmsghdr: len 52, ipset ADD, REQUEST|ACK, seq 7
		"02" + "00" + "0000" + // nfgenmsg: AF_INET, v0, res 0
		"0500" + "0100" + "06000000" + // PROTOCOL 6
		"0700" + "0200" + "73340000" + // SETNAME "s4\0"
		"1000" + "0780" + "0c00" + "0180" + "0800" + "0140" + "0a010203" // DATA{IP{IPV4 net-order}}
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	six := ipsetAddMsg(1, "s6", netip.MustParseAddr("fd00::1"))
	if six[16] != afInet6 || len(six) != 64 {
		t.Errorf("IPv6 message: family %d, length %d", six[16], len(six))
	}
}

func TestNFTAddBatch(t *testing.T) {
	b := nftAddBatch(5, conf.NFTSet{Family: "ip", Table: "t", Set: "s"}, []netip.Addr{netip.MustParseAddr("10.1.2.3")}, false)
	got := hex.EncodeToString(b)
	begin := "14000000" + "1000" + "0100" + "05000000" + "00000000" + "00" + "00" + "000a"
	elem := "38000000" + "0c0a" + "0504" + "06000000" + "00000000" + "02" + "00" + "0000" +
		"0600" + "0100" + "74000000" + // TABLE "t"
		"0600" + "0200" + "73000000" + // SET "s"
		"1400" + "0380" + "1000" + "0180" + "0c00" + "0180" + "0800" + "0100" + "0a010203" // ELEMENTS{ELEM{KEY{VALUE}}}
	end := "14000000" + "1100" + "0100" + "07000000" + "00000000" + "00" + "00" + "000a"
	if want := begin + elem + end; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestNFTAddBatchInterval(t *testing.T) {
	b := nftAddBatch(5, conf.NFTSet{Family: "inet", Table: "t", Set: "s"}, []netip.Addr{netip.MustParseAddr("10.1.2.255")}, true)
	end := "1800" + "0180" + "0800" + "0300" + "00000001" + "0c00" + "0180" + "0800" + "0100" + "0a010300" // ELEM{FLAGS=INTERVAL_END, KEY{10.1.3.0}}
	if got := hex.EncodeToString(b); !strings.Contains(got, end) {
		t.Errorf("no end element %s in %s", end, got)
	}
	last := nftAddBatch(5, conf.NFTSet{Family: "inet", Table: "t", Set: "s"}, []netip.Addr{netip.MustParseAddr("255.255.255.255")}, true)
	if len(last) != len(b)-0x18 {
		t.Errorf("255.255.255.255 got an end element: %x", last)
	}
}

func TestNFTSetFlags(t *testing.T) {
	attrs := nlAttrs(nil).str(nftaSetTable, "t").attr(nftaSetFlags, []byte{0, 0, 0, 3})
	msg := nfnlMsg(nil, 0, 0, 0, 1, 0, attrs)
	if f, ok := nftSetFlags(msg); !ok || f != 3 {
		t.Errorf("flags %d %v", f, ok)
	}
	if _, ok := nftSetFlags(msg[:20]); ok {
		t.Error("flags found in an empty message")
	}
}
