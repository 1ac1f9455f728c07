package netfilter

import (
	"encoding/binary"
	"net/netip"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// Netlink and nfnetlink constants (linux/netlink.h, linux/netfilter/nfnetlink.h,
// linux/netfilter/ipset/ip_set.h, linux/netfilter/nf_tables.h). They are
// written out here so that the encoding can be unit-tested on any system.
const (
	nlmFRequest = 0x1
	nlmFAck     = 0x4
	nlmFCreate  = 0x400
	nlaFNested  = 1 << 15
	nlaFNetByte = 1 << 14

	nfnlSubsysIPSet    = 6
	nfnlSubsysNFTables = 10
	nfnlMsgBatchBegin  = 0x10
	nfnlMsgBatchEnd    = 0x11

	ipsetProtocol     = 6
	ipsetCmdAdd       = 9
	ipsetAttrProtocol = 1
	ipsetAttrSetname  = 2
	ipsetAttrData     = 7
	ipsetAttrIP       = 1
	ipsetAttrIPv4     = 1
	ipsetAttrIPv6     = 2

	nftMsgGetSet     = 10
	nftMsgNewSetElem = 12
	nftaSetTable     = 1
	nftaSetName      = 2
	nftaSetFlags     = 3
	nftSetInterval   = 0x4
	nftaSetElemFlags = 3
	nftSetElemIntEnd = 0x1
	nftaSetElemTable = 1
	nftaSetElemSet   = 2
	nftaSetElemElems = 3
	nftaListElem     = 1
	nftaSetElemKey   = 1
	nftaDataValue    = 1

	afInet  = 2
	afInet6 = 10
)

// nlAttrs builds a list of netlink attributes.
type nlAttrs []byte

func (b nlAttrs) attr(typ uint16, data []byte) nlAttrs {
	l := 4 + len(data)
	b = binary.NativeEndian.AppendUint16(b, uint16(l))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for l%4 != 0 {
		b = append(b, 0)
		l++
	}
	return b
}

func (b nlAttrs) str(typ uint16, s string) nlAttrs { return b.attr(typ, append([]byte(s), 0)) }

func (b nlAttrs) nest(typ uint16, inner nlAttrs) nlAttrs { return b.attr(typ|nlaFNested, inner) }

// nfnlMsg appends one nfnetlink message: header, nfgenmsg (family, version
// 0, resource id) and attributes.
func nfnlMsg(b []byte, typ, flags uint16, seq uint32, family uint8, resID uint16, attrs nlAttrs) []byte {
	b = binary.NativeEndian.AppendUint32(b, uint32(16+4+len(attrs)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // port id: the kernel's
	b = append(b, family, 0)
	b = binary.BigEndian.AppendUint16(b, resID)
	return append(b, attrs...)
}

// ipsetAddMsg is the IPSET_CMD_ADD request that puts a into the ipset set.
func ipsetAddMsg(seq uint32, set string, a netip.Addr) []byte {
	family, typ := uint8(afInet), uint16(ipsetAttrIPv4)
	if !a.Is4() {
		family, typ = afInet6, ipsetAttrIPv6
	}
	ip := nlAttrs(nil).attr(typ|nlaFNetByte, a.AsSlice())
	data := nlAttrs(nil).nest(ipsetAttrIP, ip)
	attrs := nlAttrs(nil).attr(ipsetAttrProtocol, []byte{ipsetProtocol}).str(ipsetAttrSetname, set).nest(ipsetAttrData, data)
	return nfnlMsg(nil, nfnlSubsysIPSet<<8|ipsetCmdAdd, nlmFRequest|nlmFAck, seq, family, 0, attrs)
}

// nftAddBatch is the nftables batch that adds addrs to set s: begin,
// one NFT_MSG_NEWSETELEM, end. The message that needs an answer has
// sequence number seq+1. In an interval set (interval true) an address is
// the range [a, a+1), as nft writes it: a start element and an end one
// (none after the family's last address).
func nftAddBatch(seq uint32, s conf.NFTSet, addrs []netip.Addr, interval bool) []byte {
	var elems nlAttrs
	for _, a := range addrs {
		key := nlAttrs(nil).attr(nftaDataValue, a.AsSlice())
		elems = elems.nest(nftaListElem, nlAttrs(nil).nest(nftaSetElemKey, key))
		if next := a.Next(); interval && next.IsValid() {
			key := nlAttrs(nil).attr(nftaDataValue, next.AsSlice())
			end := nlAttrs(nil).attr(nftaSetElemFlags, binary.BigEndian.AppendUint32(nil, nftSetElemIntEnd)).nest(nftaSetElemKey, key)
			elems = elems.nest(nftaListElem, end)
		}
	}
	attrs := nlAttrs(nil).str(nftaSetElemTable, s.Table).str(nftaSetElemSet, s.Set).nest(nftaSetElemElems, elems)
	b := nfnlMsg(nil, nfnlMsgBatchBegin, nlmFRequest, seq, 0, nfnlSubsysNFTables, nil)
	b = nfnlMsg(b, nfnlSubsysNFTables<<8|nftMsgNewSetElem, nlmFRequest|nlmFCreate|nlmFAck, seq+1, conf.NFTFamilies[s.Family], 0, attrs)
	return nfnlMsg(b, nfnlMsgBatchEnd, nlmFRequest, seq+2, 0, nfnlSubsysNFTables, nil)
}

// nftGetSetMsg is the NFT_MSG_GETSET request for set s.
func nftGetSetMsg(seq uint32, s conf.NFTSet) []byte {
	attrs := nlAttrs(nil).str(nftaSetTable, s.Table).str(nftaSetName, s.Set)
	return nfnlMsg(nil, nfnlSubsysNFTables<<8|nftMsgGetSet, nlmFRequest|nlmFAck, seq, conf.NFTFamilies[s.Family], 0, attrs)
}

// nftSetFlags reads NFTA_SET_FLAGS from a NFT_MSG_NEWSET message (header
// included); ok is false when it has none.
func nftSetFlags(msg []byte) (flags uint32, ok bool) { return nlAttrU32(msg, nftaSetFlags) }

// nlAttrU32 reads the big-endian 32-bit top-level attribute typ of an
// nfnetlink message (header included); ok is false when it has none.
func nlAttrU32(msg []byte, typ uint16) (uint32, bool) {
	if len(msg) < 20 {
		return 0, false
	}
	for b := msg[20:]; len(b) >= 4; {
		l := int(binary.NativeEndian.Uint16(b))
		if l < 4 || l > len(b) {
			return 0, false
		}
		if binary.NativeEndian.Uint16(b[2:])&^(nlaFNested|nlaFNetByte) == typ && l == 8 {
			return binary.BigEndian.Uint32(b[4:]), true
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return 0, false
}
