package netfilter

import (
	"fmt"
	"net/netip"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// AddToIPSet adds a to the ipset set (ipset=).
func AddToIPSet(set string, a netip.Addr) error {
	_, err := nfnlSend(ipsetAddMsg(1, set, a), 1)
	return err
}

// AddToNFTSet adds a to an nftables set, as a one-address range if the set
// holds intervals.
func AddToNFTSet(s conf.NFTSet, a netip.Addr) error {
	replies, err := nfnlSend(nftGetSetMsg(1, s), 1)
	if err != nil {
		return fmt.Errorf("reading the set: %w", err)
	}
	interval := false
	for _, m := range replies {
		if f, ok := nftSetFlags(m); ok {
			interval = f&nftSetInterval != 0
		}
	}
	_, err = nfnlSend(nftAddBatch(1, s, []netip.Addr{a}, interval), 1)
	return err
}
