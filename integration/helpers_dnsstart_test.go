package integration

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// Starting Frontdesk to serve DNS: every test that runs the dnsmasq app
// does it through startDNS.

// dnsSetup is what startDNS runs: a Caddyfile whose global options hold
// options and then a dnsmasq block of conf-file=confFile (when set),
// port=port (unless noDNS) and lines, in that order, followed by sites.
type dnsSetup struct {
	confFile string   // conf-file=, the block's first line, when set
	port     int      // port=; 0 picks a free port
	lines    []string // the block's lines after port=
	options  []string // global options before the dnsmasq block, such as auto_https off
	sites    string   // site blocks after the global options; they get a free $FRONTDESK_HTTP_PORT
	env      []string // the process's extra environment ("KEY=value")
	host     string   // where the DNS server is reached; "" is 127.0.0.1
	noDNS    bool     // the configuration binds no DNS socket (port=0 in confFile): no port= line, nothing to wait for
}

// caddyfile is the setup's Caddyfile.
func (s dnsSetup) caddyfile() string {
	var block []string
	if s.confFile != "" {
		block = append(block, "conf-file="+s.confFile)
	}
	if !s.noDNS {
		block = append(block, "port="+strconv.Itoa(s.port))
	}
	options := append(append([]string(nil), s.options...), dnsmasqBlock(append(block, s.lines...)...))
	return globalBlock(options...) + s.sites
}

// dnsServer is Frontdesk running a dnsSetup.
type dnsServer struct {
	fd       *harness.Frontdesk
	addr     string   // the DNS server's host:port
	httpAddr string   // the sites' address, with dnsSetup.sites
	admin    adminAPI // the admin endpoint
	setup    dnsSetup // what runs, its port picked
}

// startDNS writes the setup's Caddyfile into a directory of its own, runs
// Frontdesk with it until the test ends, and waits until the admin API, the
// DNS server (TCP) and the sites listen.
func startDNS(t *testing.T, s dnsSetup) dnsServer {
	t.Helper()
	if s.port == 0 && !s.noDNS {
		s.port = freeDNSPort(t)
	}
	if s.host == "" {
		s.host = "127.0.0.1"
	}
	srv := dnsServer{addr: s.host + ":" + strconv.Itoa(s.port), setup: s}
	dir := t.TempDir()
	var wait []string
	if !s.noDNS {
		wait = append(wait, srv.addr)
	}
	env := s.env
	if s.sites != "" {
		var siteEnv []string
		srv.httpAddr, siteEnv = httpSite(t, dir)
		env = append(siteEnv, env...)
		wait = append(wait, srv.httpAddr)
	}
	path := filepath.Join(dir, "Caddyfile")
	writeFile(t, path, s.caddyfile())
	srv.fd = runFrontdesk(t, dir, "frontdesk-dns", path, env, wait...)
	srv.admin = adminAPI(srv.fd.Admin)
	return srv
}

// startDNSLines is startDNS with the dnsmasq block's lines alone.
func startDNSLines(t *testing.T, lines ...string) dnsServer {
	t.Helper()
	return startDNS(t, dnsSetup{lines: lines})
}

// caddyfile is the running setup's Caddyfile with other dnsmasq lines:
// what a test POSTs to /load.
func (s dnsServer) caddyfile(lines ...string) string {
	next := s.setup
	next.lines = lines
	return next.caddyfile()
}

// startDnsmasq runs real dnsmasq with conf on 127.0.0.1:port (0 picks a
// free port) until the test ends: the oracle of the differential tests, or
// an upstream.
func startDnsmasq(t *testing.T, conf string, port int) *harness.Dnsmasq {
	t.Helper()
	requirePeer(t, "dnsmasq")
	if port == 0 {
		port = freeDNSPort(t)
	}
	dm, err := harness.StartDnsmasq(filepath.Join(t.TempDir(), "dnsmasq"), conf, port)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, dm.Process)
	return dm
}

// startDNSConf writes conf to a file and runs Frontdesk with conf-file= of
// it on 127.0.0.1:port (0 picks a free port): the Frontdesk side of a
// differential test.
func startDNSConf(t *testing.T, conf string, port int) dnsServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "frontdesk.conf")
	writeFile(t, path, conf)
	return startDNS(t, dnsSetup{confFile: path, port: port, lines: []string{"listen-address=127.0.0.1"}})
}

// freeDNSPort is a port free for UDP and TCP on 127.0.0.1.
func freeDNSPort(t *testing.T) int {
	t.Helper()
	port, err := harness.FreeUDPTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// dnsmasqAddr writes host:port as dnsmasq's server= lines do: host#port.
func dnsmasqAddr(hostPort string) string { return strings.Replace(hostPort, ":", "#", 1) }
