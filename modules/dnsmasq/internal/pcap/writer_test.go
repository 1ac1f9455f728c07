package pcap

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// TestUDPPacketMatchesDnsmasq rebuilds packets that dnsmasq 2.90 wrote to
// its dumpfile (a query from a client over IPv4, a query to an upstream
// server from 0.0.0.0, an IPv6 reply) byte for byte.
func TestUDPPacketMatchesDnsmasq(t *testing.T) {
	for _, c := range []struct{ pkt, src, dst string }{
		{"450000350000000040117cb67f0000017f000001a04015e10021622c8a140100000100000000000002687204746573740000010001",
			"127.0.0.1:41024", "127.0.0.1:5601"},
		{"45000037000000004011fbb5000000007f000001a9c215e200236cb2b7a601000001000000000000046677643604746573740000010001",
			"0.0.0.0:43458", "127.0.0.1:5602"},
		{"6000000000331140000000000000000000000000000000010000000000000000000000000000000115e1db7f0033fb619cd485800001000100000000046677643604746573740000010001c00c000100010000003c000401020304",
			"[::1]:5601", "[::1]:56191"},
	} {
		want, _ := hex.DecodeString(c.pkt)
		hdr := 20
		if want[0]>>4 == 6 {
			hdr = 40
		}
		got := udpPacket(want[hdr+8:], netip.MustParseAddrPort(c.src), netip.MustParseAddrPort(c.dst))
		if !bytes.Equal(got, want) {
			t.Errorf("%s -> %s:\n got %x\nwant %x", c.src, c.dst, got, want)
		}
	}
}

func TestDumpFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pcap")
	d, err := Open(path, Query|UpstreamReply, 1432)
	if err != nil {
		t.Fatal(err)
	}
	src, dst := netip.MustParseAddrPort("127.0.0.1:1000"), netip.MustParseAddrPort("127.0.0.1:53")
	d.Packet(Query, []byte("0123456789ab"), src, dst)
	d.Packet(Reply, []byte("not dumped"), dst, src)
	d.Close()
	d.Packet(Query, []byte("after close"), src, dst)
	// Reopening appends, keeping the header.
	if d, err = Open(path, Query, 1432); err != nil {
		t.Fatal(err)
	}
	d.Packet(Query, []byte("ba9876543210"), src, dst)
	d.Close()
	b, _ := os.ReadFile(path)
	// dnsmasq's header: magic, 2.4, snaplen, link type 101 (raw IP).
	if hex.EncodeToString(b[:24]) != "d4c3b2a102000400000000000000000098050000"+"65000000" {
		t.Errorf("header %x", b[:24])
	}
	if n := len(b); n != 24+2*(16+20+8+12) {
		t.Fatalf("file of %d bytes", n)
	}
	if l := binary.LittleEndian.Uint32(b[24+8:]); l != 40 || string(b[24+16+28:24+16+40]) != "0123456789ab" {
		t.Errorf("first record: %x", b[24:24+56])
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 as dnsmasq", info.Mode())
	}
	// A file that is not a pcap file is refused, as dnsmasq refuses it.
	bad := filepath.Join(t.TempDir(), "bad")
	_ = os.WriteFile(bad, []byte("garbage\n"), 0o644)
	if _, err := Open(bad, 1, 1432); err == nil {
		t.Error("garbage file accepted")
	}
}
