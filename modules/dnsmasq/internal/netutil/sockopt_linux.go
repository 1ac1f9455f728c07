package netutil

import "syscall"

// SetMark sets the socket mark (SO_MARK) of c, as conntrack wants the
// forwarded query's sockets marked like the client's flow.
func SetMark(c syscall.RawConn, mark uint32) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, int(mark))
	}); err != nil {
		return err
	}
	return serr
}

// BindToDevice returns a dialer or listener Control that binds the socket to an interface
// (SO_BINDTODEVICE; needs CAP_NET_RAW), as dnsmasq does for server=...@if.
func BindToDevice(iface string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, iface)
		}); err != nil {
			return err
		}
		return serr
	}
}
