//go:build linux

package netfilter

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"time"
)

// nfnlSend sends msg to the kernel's nfnetlink and waits for acks
// acknowledgements, returning the other messages it got back and the first
// error the kernel reports.
func nfnlSend(msg []byte, acks int) ([][]byte, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	tv := syscall.NsecToTimeval(int64(time.Second))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("netlink timeout: %w", err)
	}
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink send: %w", err)
	}
	var first error
	var replies [][]byte
	buf := make([]byte, 8192)
	for acks > 0 {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("netlink receive: %w", err)
		}
		for b := buf[:n]; len(b) >= 16 && acks > 0; {
			l := int(binary.NativeEndian.Uint32(b))
			if l < 16 || l > len(b) {
				break
			}
			if binary.NativeEndian.Uint16(b[4:]) == syscall.NLMSG_ERROR && l >= 20 {
				acks--
				if code := int32(binary.NativeEndian.Uint32(b[16:])); code != 0 && first == nil {
					first = syscall.Errno(-code)
				}
			} else {
				replies = append(replies, append([]byte(nil), b[:l]...))
			}
			b = b[(l+3)&^3:]
			if len(b) == 0 {
				break
			}
		}
	}
	return replies, first
}
