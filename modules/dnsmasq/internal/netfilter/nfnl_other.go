//go:build !linux

package netfilter

import "errors"

// errNetfilterUnsupported says that ipset= and nftset= need Linux.
var errNetfilterUnsupported = errors.New("netfilter sets are supported on Linux only")

// nfnlSend fails: nfnetlink is Linux's.
func nfnlSend(msg []byte, acks int) ([][]byte, error) { return nil, errNetfilterUnsupported }
