package dnsmasq

import (
	"net/netip"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// Which hosts and host-record entries answer PTR queries, as dnsmasq 2.90
// decides it while it loads them (cache.c add_hosts_entry): "first one
// trumps", through a temporary hash of addresses whose chains are linked by
// the entries' next pointers. Looking a name up for the duplicate check
// (cache_find_by_name) rewrites the next pointers of that name's entries of
// the family into its own answer chain, so a chain of the address hash can
// lose its tail: an address met again after that still answers its PTR
// query. A blocklist listing a name twice gives 0.0.0.0 more than one PTR
// owner. The model keeps what decides it: each name's hash chain order
// (F_REVERSE entries first, round robin moves on each lookup), the next
// pointers, and the address hash buckets.

// revNode is one loaded entry.
type revNode struct {
	i    int // index in the entries
	addr netip.Addr
	rev  bool // F_REVERSE: answers its address's PTR query
	next *revNode
}

// dnsmasq's sizes: the address hash borrows the packet buffer
// (dnsmasq.c: edns-packet-max, at least PACKETSZ, + MAXDNAME + RRFIXEDSZ).
const (
	packetSZ  = 512
	maxDName  = 1025
	rrFixedSZ = 10
	ptrBytes  = 8 // sizeof(struct crec *)
)

// maxRevWalk bounds a walk along next pointers (the model never loops;
// this only guards it).
const maxRevWalk = 1 << 20

// reverseOwners reports, for each entry (host-record entries first, then
// the hosts files, in load order), whether it answers PTR queries for its
// address. Entries repeating an earlier name and address are dropped and
// never do.
func reverseOwners(entries []conf.HostEntry, ednsPacketMax int, roundRobin bool) []bool {
	hashsz := (max(ednsPacketMax, packetSZ) + maxDName + rrFixedSZ) / ptrBytes
	buckets := make([]*revNode, hashsz)
	chains := map[string][]*revNode{} // name -> its hash chain, F_REVERSE entries first
	out := make([]bool, len(entries))
	for i, h := range entries {
		chain := chains[h.Name]
		found := lookupFamily(chain, h.Addr.Is4(), roundRobin)
		dup := false
		for _, f := range found {
			dup = dup || f.addr == h.Addr
		}
		if dup {
			continue
		}
		n := &revNode{i: i, addr: h.Addr, rev: true}
		j := addrBucket(h.Addr, hashsz)
		for m, steps := buckets[j], 0; m != nil && steps < maxRevWalk; m, steps = m.next, steps+1 {
			if m.addr.Is4() == h.Addr.Is4() && m.addr == h.Addr {
				n.rev = false
				break
			}
		}
		if n.rev {
			n.next = buckets[j]
			buckets[j] = n
		}
		chains[h.Name] = hashInsert(chain, n)
	}
	for _, chain := range chains {
		for _, n := range chain {
			out[n.i] = n.rev
		}
	}
	return out
}

// lookupFamily is cache_find_by_name's first search of a name for one
// family: the entries found, in chain order, linked by their next pointers
// (the last one's leads nowhere useful: to the free cache records); with
// round robin, the found entries of the first one's kind are moved before
// it (chain is reordered in place).
func lookupFamily(chain []*revNode, v4 bool, roundRobin bool) []*revNode {
	var found []*revNode
	for _, n := range chain {
		if n.addr.Is4() == v4 {
			found = append(found, n)
		}
	}
	for k, f := range found {
		f.next = nil
		if k+1 < len(found) {
			f.next = found[k+1]
		}
	}
	if !roundRobin || len(found) < 2 {
		return found
	}
	first := found[0]
	moved := map[*revNode]bool{}
	for _, f := range found[1:] {
		if f.rev == first.rev {
			moved[f] = true
		}
	}
	if len(moved) == 0 {
		return found
	}
	reordered := make([]*revNode, 0, len(chain))
	for _, n := range chain {
		if n == first {
			for _, f := range found[1:] {
				if moved[f] {
					reordered = append(reordered, f)
				}
			}
		}
		if !moved[n] {
			reordered = append(reordered, n)
		}
	}
	copy(chain, reordered)
	return found
}

// hashInsert is cache_hash for a name's chain: an F_REVERSE entry after
// the chain's leading F_REVERSE entries, any other at the end.
func hashInsert(chain []*revNode, n *revNode) []*revNode {
	if !n.rev {
		return append(chain, n)
	}
	k := 0
	for k < len(chain) && chain[k].rev {
		k++
	}
	chain = append(chain, nil)
	copy(chain[k+1:], chain[k:])
	chain[k] = n
	return chain
}

// addrBucket is add_hosts_entry's hash of an address's bytes.
func addrBucket(a netip.Addr, hashsz int) int {
	j := 0
	for _, b := range a.AsSlice() {
		j = (j*2 + int(b)) % hashsz
	}
	return j
}
