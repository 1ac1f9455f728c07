package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// Starting the binary with a Caddyfile (alone or as the seed lab, in front
// of the Flask API), and talking HTTP to it.

// lab is the seed lab running on free loopback ports: the Flask API and
// frontdesk with caddyfile/lab.Caddyfile in front of it.
type lab struct {
	flask     *harness.Flask
	flaskPort int
	fd        *harness.Frontdesk
	proxy     string // frontdesk's HTTP address
	logDir    string
}

// startLab starts the Flask API and frontdesk with the given Caddyfile (the
// lab's unless another is given) proxying to it.
func startLab(t *testing.T, caddyfile string) *lab {
	t.Helper()
	requirePeer(t, "python3-flask")
	l := &lab{logDir: t.TempDir()}
	l.flaskPort = freePort(t)
	l.startFlask(t)
	l.fd, l.proxy = startFrontdesk(t, caddyfile, l.logDir, l.flask.Addr)
	return l
}

func (l *lab) startFlask(t *testing.T) {
	t.Helper()
	f, err := harness.StartFlaskOn(l.logDir, l.flaskPort)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, f.Process)
	l.flask = f
}

// startFrontdesk runs a Caddyfile that follows lab.Caddyfile's environment
// conventions with upstream as $LAB_API, and returns its HTTP address.
func startFrontdesk(t *testing.T, caddyfile, logDir, upstream string) (*harness.Frontdesk, string) {
	t.Helper()
	return startCaddyfile(t, caddyfile, logDir, append(labDNSEnv(t), "LAB_API="+upstream)...)
}

// labDNSEnv gives lab.Caddyfile's DNS server a free port and an empty
// resolv-file: names other than the lab's are refused, never forwarded off
// the machine.
func labDNSEnv(t *testing.T) []string {
	t.Helper()
	port := freeDNSPort(t)
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	writeFile(t, resolv, "")
	return []string{"FRONTDESK_DNS_PORT=" + strconv.Itoa(port), "FRONTDESK_DNS_RESOLV=" + resolv}
}

// startCaddyfile runs one of the repository's Caddyfiles on a free port
// ($FRONTDESK_HTTP_PORT) with logs in logDir ($FRONTDESK_LOG_DIR) and the
// given extra environment, and returns its HTTP address.
func startCaddyfile(t *testing.T, caddyfile, logDir string, env ...string) (*harness.Frontdesk, string) {
	t.Helper()
	addr, siteEnv := httpSite(t, logDir)
	return runFrontdesk(t, logDir, "frontdesk-"+filepath.Base(caddyfile), caddyfile, append(siteEnv, env...), addr), addr
}

// httpSite picks a free port for a Caddyfile's sites: their address, and
// the environment the repository's Caddyfiles read the port
// ($FRONTDESK_HTTP_PORT) and the log directory ($FRONTDESK_LOG_DIR) from.
func httpSite(t *testing.T, logDir string) (addr string, env []string) {
	t.Helper()
	port := freePort(t)
	return "127.0.0.1:" + strconv.Itoa(port), []string{"FRONTDESK_HTTP_PORT=" + strconv.Itoa(port), "FRONTDESK_LOG_DIR=" + logDir}
}

// runFrontdesk starts the binary with caddyfile (its log and Caddy's
// storage in dir) and the extra environment, waits until the admin API
// answers and every address in wait listens, and stops it when the test
// ends.
func runFrontdesk(t *testing.T, dir, name, caddyfile string, env []string, wait ...string) *harness.Frontdesk {
	t.Helper()
	fd, err := harness.StartFrontdesk(frontdeskBin, dir, name, caddyfile, env, wait...)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, fd.Process)
	return fd
}

// writeFile writes body to path; the test fails if it cannot.
func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// client sends exactly the headers a test sets (plus Host): no automatic
// Accept-Encoding, no connection reuse between tests.
var client = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request like the lab's curl commands: Host myapp.local,
// User-Agent curl, Accept */*, plus extra headers ("Name: value").
func do(t *testing.T, method, url, body string, extra ...string) response {
	t.Helper()
	r, err := tryDo(method, url, body, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryDo is do returning its error, for goroutines other than the test's.
func tryDo(method, url, body string, extra ...string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return response{}, err
	}
	req.Host = "myapp.local"
	req.Header.Set("User-Agent", "curl/7.88.1")
	req.Header.Set("Accept", "*/*")
	for _, h := range extra {
		name, value, _ := strings.Cut(h, ": ")
		if name == "Host" {
			req.Host = value
			continue
		}
		req.Header.Add(name, value)
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: reading body: %w", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// backendHeaders decodes the Flask app's /api/headers answer.
func backendHeaders(t *testing.T, body string) map[string]string {
	t.Helper()
	var v struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decoding /api/headers %q: %v", body, err)
	}
	return v.Headers
}

func assertHeaders(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: %s = %q (present %v), want %q", what, k, g, ok, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected header %s: %q", what, k, g)
		}
	}
}

// portOf is the port of a host:port address.
func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// freePort is a free TCP port on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}
