package netfilter

import (
	"encoding/binary"
	"net/netip"
)

// Conntrack netlink constants (linux/netfilter/nfnetlink_conntrack.h).
const (
	nfnlSubsysCTNetlink = 1
	ipctnlMsgCTGet      = 1
	ctaTupleOrig        = 1
	ctaMark             = 8
	ctaTupleIP          = 1
	ctaTupleProto       = 2
	ctaIPv4Src          = 1
	ctaIPv4Dst          = 2
	ctaIPv6Src          = 3
	ctaIPv6Dst          = 4
	ctaProtoNum         = 1
	ctaProtoSrcPort     = 2
	ctaProtoDstPort     = 3
)

// ctGetMsg is the IPCTNL_MSG_CT_GET request for the flow from client to
// server (proto 17 UDP or 6 TCP).
func ctGetMsg(seq uint32, client, server netip.AddrPort, proto uint8) []byte {
	family, src, dst := uint8(afInet), uint16(ctaIPv4Src), uint16(ctaIPv4Dst)
	if !client.Addr().Is4() {
		family, src, dst = afInet6, ctaIPv6Src, ctaIPv6Dst
	}
	ip := nlAttrs(nil).attr(src, client.Addr().AsSlice()).attr(dst, server.Addr().AsSlice())
	ports := nlAttrs(nil).attr(ctaProtoNum, []byte{proto}).
		attr(ctaProtoSrcPort, binary.BigEndian.AppendUint16(nil, client.Port())).
		attr(ctaProtoDstPort, binary.BigEndian.AppendUint16(nil, server.Port()))
	tuple := nlAttrs(nil).nest(ctaTupleIP, ip).nest(ctaTupleProto, ports)
	attrs := nlAttrs(nil).nest(ctaTupleOrig, tuple)
	return nfnlMsg(nil, nfnlSubsysCTNetlink<<8|ipctnlMsgCTGet, nlmFRequest|nlmFAck, seq, family, 0, attrs)
}

// FlowMark returns the conntrack mark of the flow from client to server;
// ok is false when conntrack does not know the flow (or cannot be asked).
func FlowMark(client, server netip.AddrPort, udp bool) (mark uint32, ok bool, err error) {
	proto := uint8(6)
	if udp {
		proto = 17
	}
	client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	replies, err := nfnlSend(ctGetMsg(1, client, server, proto), 1)
	if err != nil {
		return 0, false, err
	}
	for _, m := range replies {
		if v, ok := nlAttrU32(m, ctaMark); ok {
			return v, true, nil
		}
	}
	return 0, true, nil // a flow without CTA_MARK has mark 0
}
