package dnsdiff

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// zoneSOA is the SOA of the upstream's negative answers.
const zoneSOA = ". 300 IN SOA ns.up.test. hostmaster.up.test. 1 3600 600 86400 60"

// Zone is what the upstream answers from: records by lower-cased owner.
type Zone struct {
	rrs   map[string][]dns.RR
	names map[string]bool // owners and their parents (empty non-terminals)
	// Recursive: a chain that ends without data is answered as its end
	// is (see Case.Recursive).
	Recursive bool
}

// ParseZone reads zone lines (resource records in presentation format).
func ParseZone(lines []string) (*Zone, error) {
	z := &Zone{rrs: map[string][]dns.RR{}, names: map[string]bool{}}
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			return nil, fmt.Errorf("zone line %q: %w", l, err)
		}
		if rr == nil {
			continue
		}
		owner := strings.ToLower(rr.Header().Name)
		z.rrs[owner] = append(z.rrs[owner], rr)
		for n := owner; ; {
			z.names[n] = true
			i, end := dns.NextLabel(n, 0)
			if end {
				break
			}
			n = n[i:]
		}
	}
	return z, nil
}

// answer fills r for question q as an authoritative server of the zone would,
// following CNAMEs inside the zone; a recursive zone answers a chain that
// ends without data as its end is: with the SOA (RFC 2308) and NXDOMAIN
// for a name that does not exist (RFC 6604).
func (z *Zone) answer(q dns.Question, r *dns.Msg) {
	name := strings.ToLower(q.Name)
	found := false
	for hops := 0; hops < 8; hops++ {
		var cname *dns.CNAME
		for _, rr := range z.rrs[name] {
			t := rr.Header().Rrtype
			if t == q.Qtype || q.Qtype == dns.TypeANY {
				r.Answer = append(r.Answer, dns.Copy(rr))
				found = true
			} else if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if found || cname == nil {
			break
		}
		r.Answer = append(r.Answer, dns.Copy(cname))
		name = strings.ToLower(cname.Target)
	}
	if found || len(r.Answer) > 0 && !z.Recursive {
		return
	}
	soa, _ := dns.NewRR(zoneSOA)
	r.Ns = append(r.Ns, soa)
	if !z.names[name] {
		r.Rcode = dns.RcodeNameError
	}
}

// Upstream is a loopback DNS server (UDP and TCP on one port) answering from
// a Zone that can be swapped between configurations, counting the queries.
type Upstream struct {
	Addr    string // 127.0.0.1:port
	servers []*dns.Server
	udp     *net.UDPConn
	mu      sync.Mutex
	zone    *Zone
	queries atomic.Int64 // counted as they are read, not as they are answered
}

// StartUpstream serves an empty zone on a free loopback port.
func StartUpstream() (*Upstream, error) {
	u := &Upstream{zone: &Zone{rrs: map[string][]dns.RR{}, names: map[string]bool{}}}
	var pc net.PacketConn
	var ln net.Listener
	var err error
	for i := 0; i < 20; i++ {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		if ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			u.Addr = "127.0.0.1:" + strconv.Itoa(port)
			break
		}
		pc.Close()
	}
	if err != nil {
		return nil, err
	}
	u.udp = pc.(*net.UDPConn)
	h := dns.HandlerFunc(u.serve)
	count := func(r dns.Reader) dns.Reader { return countingReader{r.(dns.PacketConnReader), &u.queries} }
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h, DecorateReader: count}, {Listener: ln, Handler: h, DecorateReader: count}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		u.servers = append(u.servers, s)
		go func() { _ = s.ActivateAndServe() }()
		<-started
	}
	return u, nil
}

// Dnsmasq is the upstream's address as a server= line writes it.
func (u *Upstream) Dnsmasq() string { return strings.Replace(u.Addr, ":", "#", 1) }

// SetZone replaces the zone and resets the query counter.
func (u *Upstream) SetZone(z *Zone) {
	u.mu.Lock()
	u.zone = z
	u.mu.Unlock()
	u.queries.Store(0)
}

// Queries is how many queries arrived since SetZone. A server that asks
// several at once (dnsmasq's first query of a group goes to every server
// of it, two server= lines for one address included) sends them all before
// it reads a reply, and on loopback a datagram is queued when it is sent:
// so the count waits until no datagram is left unread (for at most 50 ms).
func (u *Upstream) Queries() int64 {
	for end := time.Now().Add(50 * time.Millisecond); u.unread() && time.Now().Before(end); {
		time.Sleep(20 * time.Microsecond)
	}
	return u.queries.Load()
}

// unread reports whether a datagram waits in the UDP socket.
func (u *Upstream) unread() bool {
	rc, err := u.udp.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	_ = rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
	return n > 0
}

// countingReader counts the queries as the server reads them.
type countingReader struct {
	dns.PacketConnReader
	n *atomic.Int64
}

func (c countingReader) ReadUDP(conn *net.UDPConn, timeout time.Duration) ([]byte, *dns.SessionUDP, error) {
	m, s, err := c.PacketConnReader.ReadUDP(conn, timeout)
	if err == nil {
		c.n.Add(1)
	}
	return m, s, err
}

func (c countingReader) ReadTCP(conn net.Conn, timeout time.Duration) ([]byte, error) {
	m, err := c.PacketConnReader.ReadTCP(conn, timeout)
	if err == nil {
		c.n.Add(1)
	}
	return m, err
}

// Stop ends the servers.
func (u *Upstream) Stop() {
	for _, s := range u.servers {
		_ = s.Shutdown()
	}
}

func (u *Upstream) serve(w dns.ResponseWriter, req *dns.Msg) {
	r := new(dns.Msg)
	r.SetReply(req)
	r.RecursionAvailable = true
	r.Authoritative = false
	if len(req.Question) != 1 {
		r.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(r)
		return
	}
	u.mu.Lock()
	z := u.zone
	u.mu.Unlock()
	z.answer(req.Question[0], r)
	size := dns.MinMsgSize
	if o := req.IsEdns0(); o != nil {
		r.SetEdns0(1232, o.Do())
		size = 1232
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		r.Truncate(size)
	}
	_ = w.WriteMsg(r)
}
