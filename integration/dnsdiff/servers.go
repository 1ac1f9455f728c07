package dnsdiff

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
	"github.com/miekg/dns"
)

// Side is one of the two servers compared.
type Side int

// The sides: real dnsmasq (the oracle) and Frontdesk.
const (
	Dnsmasq Side = iota
	Frontdesk
)

func (s Side) String() string { return [...]string{"dnsmasq", "frontdesk"}[s] }

// queryTimeout bounds one exchange; a server that does not answer within it
// "timed out" (compared like an answer).
const queryTimeout = 3 * time.Second

// LoadError is a configuration one side refused.
type LoadError struct {
	Side Side
	Msg  string
}

func (e *LoadError) Error() string { return e.Side.String() + " refused the configuration: " + e.Msg }

// Servers is real dnsmasq and Frontdesk, each with its own Upstream. dnsmasq
// is started anew for each configuration (it rereads its main file only at
// start); Frontdesk runs once and is reloaded through POST /load, then its
// cache is flushed (it keeps the cache across reloads).
type Servers struct {
	dir     string
	ups     [2]*Upstream
	addr    [2]string
	dm      *harness.Process
	fd      *harness.Frontdesk
	fdPort  int
	admin   *http.Client
	started bool
	// clock: the loaded case counts down TTLs of a second; its questions
	// are asked clear of second boundaries (see clearOfSecond).
	clock bool
}

// NewServers starts the upstreams and Frontdesk (frontdeskBin) with an empty
// configuration; files go under dir.
func NewServers(dir, frontdeskBin string) (*Servers, error) {
	// A load replaces Caddy's admin server: no connection is kept for the next request.
	s := &Servers{dir: dir, admin: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	for i := range s.ups {
		u, err := StartUpstream()
		if err != nil {
			s.Close()
			return nil, err
		}
		s.ups[i] = u
		if err := os.MkdirAll(s.sideDir(Side(i)), 0o755); err != nil {
			s.Close()
			return nil, err
		}
	}
	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		s.Close()
		return nil, err
	}
	s.fdPort = port
	s.addr[Frontdesk] = "127.0.0.1:" + strconv.Itoa(port)
	if err := os.WriteFile(s.fdConf(), []byte("no-resolv\nno-hosts\n"), 0o644); err != nil {
		s.Close()
		return nil, err
	}
	cf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cf, []byte(s.caddyfile()), 0o644); err != nil {
		s.Close()
		return nil, err
	}
	fd, err := harness.StartFrontdesk(frontdeskBin, dir, "frontdesk", cf, nil, s.addr[Frontdesk])
	if err != nil {
		s.Close()
		return nil, err
	}
	s.fd = fd
	return s, nil
}

func (s *Servers) sideDir(side Side) string { return filepath.Join(s.dir, side.String()) }

func (s *Servers) fdConf() string { return filepath.Join(s.sideDir(Frontdesk), "dnsmasq.conf") }

func (s *Servers) caddyfile() string {
	return fmt.Sprintf("{\n\tadmin {$FRONTDESK_ADMIN}\n\tdnsmasq {\n\t\tconf-file=%s\n\t\tport=%d\n\t\tlisten-address=127.0.0.1\n\t}\n}\n",
		s.fdConf(), s.fdPort)
}

// Upstream is a side's upstream.
func (s *Servers) Upstream(side Side) *Upstream { return s.ups[side] }

// Close stops everything started.
func (s *Servers) Close() {
	if s.dm != nil {
		s.dm.Stop()
		s.dm = nil
	}
	if s.fd != nil {
		s.fd.Stop()
		s.fd = nil
	}
	for _, u := range s.ups {
		if u != nil {
			u.Stop()
		}
	}
}

// FrontdeskLog is the tail of Frontdesk's log, for a failure report.
func (s *Servers) FrontdeskLog() string {
	if s.fd == nil {
		return ""
	}
	return tail(s.fd.Log(), 20)
}

// render replaces a case's placeholders with a side's values.
func (s *Servers) render(side Side, text string) string {
	return strings.NewReplacer(PlaceUpstream, s.ups[side].Dnsmasq(), PlaceDir, s.sideDir(side)).Replace(text)
}

// Load makes both sides serve c (its configuration, files and zone) with
// empty caches. A *LoadError says which side refused it.
func (s *Servers) Load(c *Case) error {
	zone, err := ParseZone(c.Zone)
	if err != nil {
		return err
	}
	zone.Recursive = c.Recursive
	for i := range s.ups {
		side := Side(i)
		for _, f := range c.Files {
			body := s.render(side, strings.Join(f.Lines, "\n")+"\n")
			if err := os.WriteFile(filepath.Join(s.sideDir(side), f.Name), []byte(body), 0o644); err != nil {
				return err
			}
		}
		s.ups[i].SetZone(zone)
	}
	s.clock = secondTTLs(c)
	conf := "no-resolv\nno-hosts\n" + strings.Join(c.Config, "\n") + "\n"
	errDM := s.startDnsmasq(s.render(Dnsmasq, conf))
	errFD := s.reloadFrontdesk(s.render(Frontdesk, conf))
	for _, u := range s.ups {
		u.SetZone(zone) // forget what a start-up sent
	}
	return errors.Join(errDM, errFD)
}

// DnsmasqLog is what the running dnsmasq has logged (its queries too when
// the case's configuration has log-queries).
func (s *Servers) DnsmasqLog() string {
	if s.dm == nil {
		return ""
	}
	return s.dm.Log()
}

func (s *Servers) startDnsmasq(conf string) error {
	if s.dm != nil {
		s.dm.Stop()
		s.dm = nil
	}
	dir := s.sideDir(Dnsmasq)
	path := filepath.Join(dir, "dnsmasq.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "dnsmasq.log"))
	p, err := harness.Start(dir, "dnsmasq", nil, dir, harness.DnsmasqArgv(dir, path, port)...)
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := p.WaitTCPEvery(addr, 10*time.Second, 2*time.Millisecond); err != nil {
		p.Stop()
		if p.Exited() {
			return &LoadError{Dnsmasq, firstLine(p.Log())}
		}
		return err
	}
	s.dm = p
	s.addr[Dnsmasq] = addr
	return nil
}

func (s *Servers) reloadFrontdesk(conf string) error {
	if err := os.WriteFile(s.fdConf(), []byte(conf), 0o644); err != nil {
		return err
	}
	if err := s.post("/load", "text/caddyfile", s.caddyfile()); err != nil {
		return &LoadError{Frontdesk, err.Error()}
	}
	// A load may replace the admin server, closing the kept-alive
	// connection under the next request (EOF, reset); the flush is
	// idempotent, so it is sent again.
	var err error
	for try := 0; try < 3; try++ {
		if err = s.post("/dnsmasq/cache/flush", "application/json", ""); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func (s *Servers) post(path, ctype, body string) error {
	req, err := http.NewRequest(http.MethodPost, "http://"+s.fd.Admin+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Cache-Control", "must-revalidate") // reload even when the Caddyfile is unchanged
	resp, err := s.admin.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// Ask sends q to a side and returns its answer, reduced, with how many
// queries its upstream received meanwhile. No answer (a timeout, a closed
// connection) is an answer too.
func (s *Servers) Ask(side Side, q Query) Answer {
	before := s.ups[side].Queries()
	m, err := exchange(s.addr[side], q)
	return Normalize(m, err, s.ups[side].Queries()-before, side, q.TCP)
}

// exchange asks q of addr.
func exchange(addr string, q Query) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.Name, q.Type)
	m.RecursionDesired = true
	if q.EDNS > 0 {
		m.SetEdns0(q.EDNS, q.DO)
	}
	if q.TCP {
		c := &dns.Client{Net: "tcp", Timeout: queryTimeout}
		r, _, err := c.Exchange(m, addr)
		return r, err
	}
	return ExchangeUDP(m, addr, queryTimeout)
}

// ExchangeUDP is a plain UDP exchange that also accepts a truncated reply
// whose records were cut off mid-section (dnsmasq keeps the counts of the
// untruncated message): the header and what could be decoded are returned.
func ExchangeUDP(m *dns.Msg, addr string, timeout time.Duration) (*dns.Msg, error) {
	b, err := m.Pack()
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(b); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		r := new(dns.Msg)
		err = r.Unpack(buf[:n])
		if r.Id != m.Id {
			continue
		}
		if err != nil && !r.Truncated {
			return nil, err
		}
		return r, nil
	}
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return s
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
