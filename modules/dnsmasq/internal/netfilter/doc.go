// Package netfilter talks to the Linux kernel's nfnetlink for the dnsmasq
// app: it adds addresses to ipset= and nftset= sets and reads the
// conntrack mark of a client's flow (conntrack, connmark-allowlist). The
// messages are encoded here, byte for byte as the kernel's headers lay
// them out, so that they can be tested on any system; only the socket
// (nfnl_linux.go) is Linux's.
//
// It imports the standard library and internal/conf (the NFTSet of an
// nftset= line); the dnsmasq package imports it.
//
//	netlink.go     netlink attributes, nfnetlink messages, ipset and nftables requests
//	sets.go        AddToIPSet, AddToNFTSet
//	conntrack.go   FlowMark
//	nfnl_linux.go  the nfnetlink socket (nfnl_other.go: its error elsewhere)
package netfilter
