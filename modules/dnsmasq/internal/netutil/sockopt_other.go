//go:build !linux

package netutil

import (
	"errors"
	"syscall"
)

// SetMark fails: SO_MARK is Linux's.
func SetMark(syscall.RawConn, uint32) error {
	return errors.New("conntrack: socket marks are supported on Linux only")
}

// BindToDevice returns a Control that fails: binding a socket to an interface needs Linux.
func BindToDevice(iface string) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error {
		return errors.New("server=...@" + iface + ": binding to an interface is supported on Linux only")
	}
}
