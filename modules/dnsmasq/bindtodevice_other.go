//go:build !linux

package dnsmasq

import (
	"errors"
	"syscall"
)

// setSocketMark fails: SO_MARK is Linux's.
func setSocketMark(syscall.RawConn, uint32) error {
	return errors.New("conntrack: socket marks are supported on Linux only")
}

// bindToDevice fails: binding a socket to an interface needs Linux.
func bindToDevice(iface string) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error {
		return errors.New("server=...@" + iface + ": binding to an interface is supported on Linux only")
	}
}
