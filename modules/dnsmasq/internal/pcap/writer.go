package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Kinds of packets, the bits of dumpmask= as in `man dnsmasq`.
const (
	Query         = 0x0001 // DNS queries from clients
	Reply         = 0x0002 // DNS replies to clients
	UpstreamQuery = 0x0004 // DNS queries to upstream servers
	UpstreamReply = 0x0008 // DNS replies from upstream servers
)

const (
	pcapMagic     = 0xa1b2c3d4
	pcapLinkRaw   = 101 // LINKTYPE_RAW: each packet starts with its IPv4 or IPv6 header
	pcapHeaderLen = 24
)

// Writer writes DNS packets to the pcap file of dumpfile=, as dnsmasq 2.90
// does (measured on its files): a little-endian pcap 2.4 file with link
// type 101 (raw IP) and a snap length of edns-packet-max + 200; each
// packet is an IPv4 (or IPv6) header, TTL 64, ID 0, and a UDP header, with
// valid checksums, around the DNS message. An existing file is appended
// to. Queries to upstream servers have the source address 0.0.0.0 (or ::)
// and the real source port, as dnsmasq writes them.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	mask uint32
}

// Open opens (or creates, mode 0600) the pcap file path. A file that
// exists and is not empty must be a pcap file already: it is appended to.
func Open(path string, mask uint32, snaplen int) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dumpfile: %w", err)
	}
	var hdr [pcapHeaderLen]byte
	n, err := io.ReadFull(f, hdr[:])
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		binary.LittleEndian.PutUint32(hdr[0:], pcapMagic)
		binary.LittleEndian.PutUint16(hdr[4:], 2)
		binary.LittleEndian.PutUint16(hdr[6:], 4)
		binary.LittleEndian.PutUint32(hdr[16:], uint32(snaplen))
		binary.LittleEndian.PutUint32(hdr[20:], pcapLinkRaw)
		if _, err := f.Write(hdr[:]); err != nil {
			f.Close()
			return nil, fmt.Errorf("dumpfile %s: %w", path, err)
		}
	case n < pcapHeaderLen || binary.LittleEndian.Uint32(hdr[0:]) != pcapMagic:
		f.Close()
		return nil, fmt.Errorf("dumpfile %s exists and is not a pcap file", path)
	}
	return &Writer{f: f, mask: mask}, nil
}

// Wants reports whether packets of kind are dumped (d may be nil).
func (d *Writer) Wants(kind uint32) bool { return d != nil && d.mask&kind != 0 }

// Packet appends one UDP datagram carrying payload from src to dst, if
// dumpmask selects kind. Errors are dropped: dumping is for debugging and
// must not stop DNS.
func (d *Writer) Packet(kind uint32, payload []byte, src, dst netip.AddrPort) {
	if !d.Wants(kind) {
		return
	}
	pkt := udpPacket(payload, src, dst)
	now := time.Now()
	rec := make([]byte, 16, 16+len(pkt))
	binary.LittleEndian.PutUint32(rec[0:], uint32(now.Unix()))
	binary.LittleEndian.PutUint32(rec[4:], uint32(now.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(pkt)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(pkt)))
	rec = append(rec, pkt...)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f != nil {
		_, _ = d.f.Write(rec)
	}
}

// Close closes the file; later packets are dropped.
func (d *Writer) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

// udpPacket is an IP packet with a UDP header around payload. The
// addresses are both IPv4 or both IPv6 (an IPv4 source with an IPv6
// destination is written as IPv4-mapped IPv6).
func udpPacket(payload []byte, src, dst netip.AddrPort) []byte {
	s, t := src.Addr().Unmap(), dst.Addr().Unmap()
	v4 := s.Is4() && t.Is4()
	if !v4 {
		s, t = netip.AddrFrom16(s.As16()), netip.AddrFrom16(t.As16())
	}
	udpLen := 8 + len(payload)
	udp := make([]byte, udpLen)
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
	copy(udp[8:], payload)
	// The UDP checksum covers a pseudo-header of the addresses, the
	// protocol and the length.
	sb, tb := s.AsSlice(), t.AsSlice()
	sum := checksumAdd(0, sb)
	sum = checksumAdd(sum, tb)
	sum += 17 + uint32(udpLen)
	sum = checksumAdd(sum, udp)
	ck := checksumFold(sum)
	if ck == 0 {
		ck = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], ck)
	if v4 {
		ip := make([]byte, 20, 20+udpLen)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+udpLen))
		ip[8] = 64 // TTL
		ip[9] = 17 // UDP
		copy(ip[12:], sb)
		copy(ip[16:], tb)
		binary.BigEndian.PutUint16(ip[10:], checksumFold(checksumAdd(0, ip)))
		return append(ip, udp...)
	}
	ip := make([]byte, 40, 40+udpLen)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(udpLen))
	ip[6] = 17 // next header: UDP
	ip[7] = 64 // hop limit
	copy(ip[8:], sb)
	copy(ip[24:], tb)
	return append(ip, udp...)
}

// checksumAdd adds b as big-endian 16-bit words to the one's-complement sum.
func checksumAdd(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

// checksumFold folds the sum into the 16-bit one's-complement checksum.
func checksumFold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
