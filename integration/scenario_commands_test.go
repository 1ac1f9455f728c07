package integration

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// scenarioRun is one scenario started with its documented command,
// integration/scenario.sh <name> (what `make run-<name>` runs), on free ports.
type scenarioRun struct {
	name  string
	http  string // Frontdesk's HTTP address
	https int    // tls only
	stats int    // hostrouting only
	dir   string // SCENARIO_DIR: the files the command generated
	base  int    // SCENARIO_PORT_BASE
}

// scenarioChecks says, per scenario, what a user trying its "Try:" lines sees.
var scenarioChecks = map[string]func(t *testing.T, s scenarioRun){
	"static-api":     checkStaticAPIScenario,
	"upstream-flask": checkUpstreamFlaskScenario,
	"tls":            checkTLSScenario,
	"paths":          checkPathsScenario,
	"timeouts":       checkTimeoutsScenario,
	"loadbalance":    checkLoadbalanceScenario,
	"hostrouting":    checkHostroutingScenario,
	"cache":          checkCacheScenario,
}

// TestScenarioCommands runs every scenario of caddyfile/ with exactly the
// command its header documents, with only the ports moved (environment knobs
// of the script), and checks that it serves as shipped and that stopping the
// command stops every backend it started.
func TestScenarioCommands(t *testing.T) {
	entries, err := filepath.Glob(repoFile(t, "caddyfile/*.Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	demo := buildDemo(t)
	for _, f := range entries {
		name := strings.TrimSuffix(filepath.Base(f), ".Caddyfile")
		if name == "lab" {
			continue // make lab: TestLabScript
		}
		check, ok := scenarioChecks[name]
		if !ok {
			t.Errorf("caddyfile/%s.Caddyfile has no scenario check: add one to scenarioChecks", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			if name == "upstream-flask" {
				requirePeer(t, "python3-flask")
			}
			s, p := startScenario(t, name, demo)
			check(t, s)
			p.Stop()
			for i := 1; i <= 6; i++ {
				if addr := "127.0.0.1:" + strconv.Itoa(s.base+i); stillListening(addr, 5*time.Second) {
					t.Errorf("5 s after stopping the scenario, a backend still listens on %s", addr)
				}
			}
		})
	}
}

// stillListening reports whether addr still accepts connections after d.
func stillListening(addr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildDemo builds the demo backends once for the run.
func buildDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(filepath.Dir(frontdeskBin), "demo")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "build", "-o", bin, "./integration/demo")
	cmd.Dir = repoFile(t, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the demo backends: %v\n%s", err, out)
	}
	return bin
}

// freePortRun returns a port p such that p+1 ... p+n are free too.
func freePortRun(t *testing.T, n int) int {
	t.Helper()
	p, err := harness.FreePortRun(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func startScenario(t *testing.T, name, demo string) (scenarioRun, *harness.Process) {
	t.Helper()
	free := func() int {
		p, err := harness.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	s := scenarioRun{name: name, https: free(), stats: free(), dir: t.TempDir(), base: freePortRun(t, 6)}
	httpPort := free()
	s.http = "127.0.0.1:" + strconv.Itoa(httpPort)
	logDir := t.TempDir()
	env := []string{
		"FRONTDESK_BIN=" + frontdeskBin, "DEMO_BIN=" + demo,
		"FRONTDESK_HTTP_PORT=" + strconv.Itoa(httpPort),
		"FRONTDESK_HTTPS_PORT=" + strconv.Itoa(s.https),
		"STATS_PORT=" + strconv.Itoa(s.stats),
		"FRONTDESK_ADMIN=127.0.0.1:" + strconv.Itoa(free()),
		"SCENARIO_PORT_BASE=" + strconv.Itoa(s.base),
		"SCENARIO_DIR=" + s.dir, "FRONTDESK_LOG_DIR=" + logDir,
	}
	p, err := harness.Start(logDir, "scenario-"+name, env, repoFile(t, "."), "integration/scenario.sh", name)
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, p)
	if err := p.WaitTCP(s.http, 60*time.Second); err != nil {
		t.Fatalf("integration/scenario.sh %s: %v\n%s", name, err, lastLines(p.Log(), 30))
	}
	if !strings.Contains(p.Log(), "Try:") {
		t.Errorf("integration/scenario.sh %s printed no Try: lines:\n%s", name, p.Log())
	}
	return s, p
}

// demoAnswer is what a demo backend says about a request.
type demoAnswer struct {
	Backend string            `json:"backend"`
	Served  int               `json:"served"`
	URI     string            `json:"uri"`
	Headers map[string]string `json:"headers"`
}

// getEventually polls until the request answers want, as a user retrying
// curl would while health checks settle.
func getEventually(t *testing.T, c *http.Client, url, host string, want int) *http.Response {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := c.Do(req)
		if err == nil && resp.StatusCode == want {
			return resp
		}
		status := fmt.Sprint(err)
		if err == nil {
			status = resp.Status
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s (Host %s): %s, want %d", url, host, status, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func demoGet(t *testing.T, url, host string) (demoAnswer, http.Header) {
	t.Helper()
	resp := getEventually(t, client, url, host, http.StatusOK)
	defer resp.Body.Close()
	var a demoAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("GET %s: not a demo backend's answer: %v", url, err)
	}
	return a, resp.Header
}

func bodyOf(t *testing.T, url, host string) string {
	t.Helper()
	resp := getEventually(t, client, url, host, http.StatusOK)
	return readAll(t, resp)
}

func checkStaticAPIScenario(t *testing.T, s scenarioRun) {
	for _, path := range []string{"/", "/some/route"} {
		if b := bodyOf(t, "http://"+s.http+path, ""); !strings.Contains(b, "Frontdesk demo frontend") {
			t.Errorf("GET %s: not the demo page: %.80q", path, b)
		}
	}
	if a, _ := demoGet(t, "http://"+s.http+"/api/users", ""); a.Backend != "api" || a.URI != "/users" {
		t.Errorf("GET /api/users reached %q as %q, want api as /users", a.Backend, a.URI)
	}
}

func checkUpstreamFlaskScenario(t *testing.T, s scenarioRun) {
	if b := bodyOf(t, "http://"+s.http+"/api/hello?name=DevOps", ""); b != `{"message":"Hello, DevOps!"}`+"\n" {
		t.Errorf("GET /api/hello: %q", b)
	}
}

func checkTLSScenario(t *testing.T, s scenarioRun) {
	root := filepath.Join(s.dir, "data", "caddy", "pki", "authorities", "local", "root.crt")
	for _, c := range []struct{ host, ca, backend string }{
		{"apiclub.com", root, "api"},
		{"tasks.apiclub.com", filepath.Join(s.dir, "tasks.apiclub.com.pem"), "tasks"},
	} {
		pool := x509.NewCertPool()
		deadline := time.Now().Add(30 * time.Second)
		for { // the internal CA writes its root when it starts
			pem, err := os.ReadFile(c.ca)
			if err == nil && pool.AppendCertsFromPEM(pem) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no CA certificate at %s: %v", c.host, c.ca, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: c.host},
		}}
		url := "https://127.0.0.1:" + strconv.Itoa(s.https) + "/"
		resp := getEventually(t, hc, url, c.host, http.StatusOK)
		var a demoAnswer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Backend != c.backend {
			t.Errorf("https://%s/ reached %q (%v), want %s", c.host, a.Backend, err, c.backend)
		}
		resp.Body.Close()
	}
	resp := getEventually(t, client, "http://"+s.http+"/x", "apiclub.com", http.StatusMovedPermanently)
	resp.Body.Close()
	if loc, want := resp.Header.Get("Location"), "https://apiclub.com:"+strconv.Itoa(s.https)+"/x"; loc != want {
		t.Errorf("redirect to %q, want %q", loc, want)
	}
}

func checkPathsScenario(t *testing.T, s scenarioRun) {
	const host = "api.example.com"
	for path, want := range map[string]demoAnswer{
		"/api/users/42": {Backend: "users", URI: "/42"},
		"/api/tasks/7":  {Backend: "tasks", URI: "/7"},
	} {
		if a, _ := demoGet(t, "http://"+s.http+path, host); a.Backend != want.Backend || a.URI != want.URI {
			t.Errorf("GET %s reached %q as %q, want %s as %s", path, a.Backend, a.URI, want.Backend, want.URI)
		}
	}
	if b := bodyOf(t, "http://"+s.http+"/", host); !strings.Contains(b, "Frontdesk demo frontend") {
		t.Errorf("GET /: not the demo page: %.80q", b)
	}
	cfg, err := websocket.NewConfig("ws://"+host+"/ws", "http://"+host+"/")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.http)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := websocket.NewClient(cfg, conn)
	if err != nil {
		t.Fatalf("WebSocket through /ws: %v", err)
	}
	defer ws.Close()
	var got string
	if err := websocket.Message.Send(ws, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := websocket.Message.Receive(ws, &got); err != nil || got != "websocket: hello" {
		t.Errorf("WebSocket echo: %q, %v", got, err)
	}
}

func checkTimeoutsScenario(t *testing.T, s scenarioRun) {
	a, h := demoGet(t, "http://"+s.http+"/", "api.example.com")
	if a.Backend != "api" {
		t.Errorf("GET / reached %q", a.Backend)
	}
	for _, f := range []string{"Server", "X-Powered-By"} {
		if v := h.Get(f); v != "" && v != "Caddy" {
			t.Errorf("the backend's %s reached the client: %q", f, v)
		}
	}
}

func checkLoadbalanceScenario(t *testing.T, s scenarioRun) {
	// Until every primary has passed its checks, fewer of them serve.
	seen := map[string]int{}
	for deadline := time.Now().Add(30 * time.Second); len(seen) < 2 && time.Now().Before(deadline); {
		a, _ := demoGet(t, "http://"+s.http+"/", "")
		seen[a.Backend]++
	}
	for b := range seen {
		if b == "app5" || b == "app-backup" {
			t.Errorf("%s (down / backup) served while the primaries are healthy: %v", b, seen)
		}
	}
	if len(seen) < 2 {
		t.Errorf("30 s of requests reached only %v", seen)
	}
	if b := bodyOf(t, "http://"+s.http+"/frontdesk-health", ""); !strings.Contains(b, "healthy") {
		t.Errorf("/frontdesk-health: %q", b)
	}
}

func checkHostroutingScenario(t *testing.T, s scenarioRun) {
	for host, want := range map[string][]string{"api.example.com": {"api1", "api2"}, "example.com": {"web1", "web2"}, "other.test": {"web1", "web2"}} {
		a, _ := demoGet(t, "http://"+s.http+"/", host)
		if a.Backend != want[0] && a.Backend != want[1] {
			t.Errorf("Host %s reached %q, want one of %v", host, a.Backend, want)
		}
	}
	req, err := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(s.stats)+"/haproxy", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", "changeme")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "api_backend") {
		t.Errorf("stats page: %d %.200q", resp.StatusCode, b)
	}
}

func checkCacheScenario(t *testing.T, s scenarioRun) {
	url := "http://" + s.http + "/api/x"
	first, h1 := demoGet(t, url, "api.example.com")
	second, h2 := demoGet(t, url, "api.example.com")
	if h1.Get("X-Cache-Status") != "MISS" || h2.Get("X-Cache-Status") != "HIT" || second.Served != first.Served {
		t.Errorf("two GETs: %s (served %d), %s (served %d); want MISS then HIT with the same count",
			h1.Get("X-Cache-Status"), first.Served, h2.Get("X-Cache-Status"), second.Served)
	}
}
