package integration

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// What the dnsmasq app logs and dumps: log-debug, and dumpfile= with
// dumpmask= (pcap files compared packet by packet with real dnsmasq's).

// TestDnsmasqDiffLogDebug: log-debug only adds (zap debug) log entries; the
// answers are those of dnsmasq with the same option.
func TestDnsmasqDiffLogDebug(t *testing.T) {
	diffScenario(t, "no-resolv\nno-hosts\nlog-debug\nlog-queries\nserver={UP1}\naddress=/a.test/1.2.3.4\n",
		"a.test. A", "x.a.test. AAAA", "b.test. A", "b.test. A", "nx.b.test. MX", "servfail.b.test. A")
}

// TestDnsmasqDiffDumpfile covers dumpfile= and dumpmask=: both servers
// get the same queries (answered from host-record, address=, local=, the
// cache, and forwarded; over UDP and one over TCP) and write pcap files;
// the files must have dnsmasq's header (link type 101, raw IP; snap length
// edns-packet-max + 200) and the same set of packets: direction (query
// from a client, reply to it, query to the upstream, reply from it) and
// DNS message (IDs and TTLs aside). Frontdesk's IP and UDP checksums must
// be valid. A second pair with dumpmask=0x5 dumps only client and upstream
// queries.
func TestDnsmasqDiffDumpfile(t *testing.T) {
	for _, mask := range []string{"0xffff", "0x5"} {
		t.Run(mask, func(t *testing.T) {
			var files [2]string
			var confs [2]string
			var ups [2]*fakeUpstream
			for i := range files {
				files[i] = filepath.Join(t.TempDir(), "dump.pcap")
				ups[i] = startFakeUpstream(t, 1)
				confs[i] = "no-resolv\nno-hosts\nserver=" + ups[i].Dnsmasq() + "\nhost-record=hr.test,9.9.9.9\naddress=/adr.test/5.5.5.5\n" +
					"local=/l.test/\ndumpfile=" + files[i] + "\ndumpmask=" + mask + "\n"
			}
			p := startDNSPair(t, confs[0], confs[1])
			qq := qs("hr.test. A", "adr.test. A", "x.l.test. A", "fwd.test. A", "fwd.test. A", "nx.test. A", "hr.test. MX", "tcp.test. A tcp")
			n := runDiff(t, p, qq)
			t.Logf("%d/%d differential cases identical", n, len(qq))
			time.Sleep(200 * time.Millisecond)
			var sets [2][]string
			for i, f := range files {
				server := p.dnsmasq
				if i == 1 {
					server = p.frontdesk
				}
				sets[i] = dumpedPackets(t, f, server, ups[i].Addr, i == 1)
			}
			if strings.Join(sets[0], "\n") != strings.Join(sets[1], "\n") {
				t.Errorf("dumped packets differ:\n--- dnsmasq:\n%s\n--- frontdesk:\n%s", strings.Join(sets[0], "\n"), strings.Join(sets[1], "\n"))
			}
			if len(sets[0]) == 0 {
				t.Error("nothing dumped")
			}
			t.Logf("%d packets dumped by each", len(sets[0]))
		})
	}
}

// dumpedPackets reads a dnsmasq-style pcap file and returns its packets,
// sorted, as "<direction> <message>" with the message's ID zeroed and its
// TTLs set to 0; server and upstream name the directions. check verifies
// the IPv4 and UDP checksums.
func dumpedPackets(t *testing.T, path, server, upstream string, check bool) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 101 ||
		binary.LittleEndian.Uint32(b[16:]) != 1432 {
		t.Fatalf("%s: not dnsmasq's pcap header: %x", path, b[:min(24, len(b))])
	}
	_, sp, _ := strings.Cut(server, ":")
	_, up, _ := strings.Cut(upstream, ":")
	var out []string
	for off := 24; off+16 <= len(b); {
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		pkt := b[off+16 : off+16+incl]
		off += 16 + incl
		if pkt[0]>>4 != 4 || pkt[9] != 17 {
			t.Fatalf("%s: not an IPv4 UDP packet: %x", path, pkt)
		}
		udp := pkt[20:]
		if check {
			if ipSum := onesSum(pkt[:20]); ipSum != 0xffff {
				t.Errorf("bad IPv4 header checksum in %x", pkt)
			}
			pseudo := append(append([]byte{}, pkt[12:20]...), 0, 17, udp[4], udp[5])
			if s := onesSum(append(pseudo, udp...)); s != 0xffff {
				t.Errorf("bad UDP checksum in %x", pkt)
			}
		}
		srcPort := strconv.Itoa(int(binary.BigEndian.Uint16(udp)))
		dstPort := strconv.Itoa(int(binary.BigEndian.Uint16(udp[2:])))
		dir := "?"
		switch {
		case dstPort == sp:
			dir = "client-query"
		case srcPort == sp:
			dir = "client-reply"
		case dstPort == up:
			dir = "upstream-query"
		case srcPort == up:
			dir = "upstream-reply"
		}
		m := new(dns.Msg)
		if err := m.Unpack(udp[8:]); err != nil {
			t.Fatalf("%s: bad DNS message: %v", path, err)
		}
		m.Id = 0
		for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
			for _, rr := range sec {
				rr.Header().Ttl = 0
			}
		}
		out = append(out, dir+" "+strings.Join(strings.Fields(m.String()), " "))
	}
	sort.Strings(out)
	return out
}

// onesSum is the folded one's-complement sum of b (0xffff when a checksum
// inside b is right).
func onesSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
