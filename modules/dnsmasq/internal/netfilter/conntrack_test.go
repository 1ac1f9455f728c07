package netfilter

import (
	"encoding/hex"
	"net/netip"
	"testing"
)

func TestCTGetMsg(t *testing.T) {
	got := hex.EncodeToString(ctGetMsg(3, netip.MustParseAddrPort("127.0.0.1:4660"), netip.MustParseAddrPort("127.0.0.2:53"), 17))
	want := "48000000" + "0101" + "0500" + "03000000" + "00000000" + "02" + "00" + "0000" + // CT GET, REQUEST|ACK
		"3400" + "0180" + // TUPLE_ORIG
		"1400" + "0180" + "0800" + "0100" + "7f000001" + "0800" + "0200" + "7f000002" + // TUPLE_IP{V4_SRC, V4_DST}
		"1c00" + "0280" + "0500" + "0100" + "11000000" + "0600" + "0200" + "12340000" + "0600" + "0300" + "00350000" // PROTO{NUM, SRC_PORT, DST_PORT}
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	reply := nfnlMsg(nil, 0, 0, 0, 2, 0, nlAttrs(nil).nest(ctaTupleOrig, nil).attr(ctaMark, []byte{0, 0, 0, 5}))
	if m, ok := nlAttrU32(reply, ctaMark); !ok || m != 5 {
		t.Errorf("mark %d %v", m, ok)
	}
}
