// Package netutil holds the socket code of the dnsmasq app that knows
// nothing of DNS: socket options (SO_MARK, SO_BINDTODEVICE), the
// packet-info control messages of a wildcard UDP socket, and the listener
// that enforces max-tcp-connections.
//
// It imports only the standard library and golang.org/x/net; every other
// package of the app may import it.
//
//	sockopt_linux.go   SetMark, BindToDevice (sockopt_other.go: their errors elsewhere)
//	pktinfo.go         OOBSize, ParseDst, SrcOOB
//	limitlistener.go   LimitListener (max-tcp-connections)
package netutil
