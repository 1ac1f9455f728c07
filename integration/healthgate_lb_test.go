package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// TestHealthgateLoadbalanceCaddyfile runs caddyfile/loadbalance.Caddyfile
// (seed 004's pool) against five lab Flask APIs: the weighted primaries
// share the load under least_conn, the backup and the `down` one get
// nothing, /frontdesk-health says healthy; with every primary killed the
// backup takes over.
func TestHealthgateLoadbalanceCaddyfile(t *testing.T) {
	requirePeer(t, "python3-flask")
	logDir := t.TempDir()
	names := []string{"APP1", "APP2", "APP3", "APP4", "APP_BACKUP"}
	flasks := map[string]*harness.Flask{}
	env := []string{"HEALTH_INTERVAL=100ms"}
	for _, n := range names {
		f, err := harness.StartFlask(logDir)
		if err != nil {
			t.Fatal(err)
		}
		stopOnCleanup(t, f.Process)
		flasks[n] = f
		env = append(env, n+"="+f.Addr)
	}
	downPort := freePort(t)
	app5 := "127.0.0.1:" + strconv.Itoa(downPort)
	env = append(env, "APP5="+app5)
	fd, addr := startCaddyfile(t, repoFile(t, "caddyfile/loadbalance.Caddyfile"), logDir, env...)
	h := &hgFrontdesk{fd: fd, addr: addr, logDir: logDir}
	// Every primary and the backup must have passed rise (2) checks.
	h.waitServing(t, true, 10*time.Second, flasks["APP1"].Addr, flasks["APP2"].Addr, flasks["APP3"].Addr, flasks["APP4"].Addr, flasks["APP_BACKUP"].Addr)
	st := h.states(t)
	if s := st[app5]; s.State != "config_down" || s.Serving {
		t.Errorf("app5 (down in the config): %+v", s)
	}
	if s := st[flasks["APP_BACKUP"].Addr]; s.Role != "backup" || !s.Serving {
		t.Errorf("backup: %+v", s)
	}
	if r := do(t, "GET", "http://"+addr+"/frontdesk-health", "", "Host: app.example.com"); r.status != 200 || r.body != `{"status":"healthy"}`+"\n" {
		t.Errorf("/frontdesk-health: %d %q", r.status, r.body)
	}

	// The status page (HAProxy's stats page) lists the pool.
	page := do(t, "GET", "http://"+addr+"/frontdesk-status", "", "Host: app.example.com")
	if page.status != 200 || !strings.Contains(page.body, `<meta http-equiv="refresh" content="10">`) ||
		!strings.Contains(page.body, `<tr data-upstream="`+app5+`">`) ||
		!strings.Contains(page.body, `<span class="state config_down">config_down</span>`) ||
		strings.Count(page.body, `<span class="state up">up</span>`) != 5 {
		t.Errorf("/frontdesk-status: %d\n%s", page.status, page.body)
	}
	checkStatusPageInChromium(t, "http://"+addr+"/frontdesk-status", app5)

	count := func(n string) int { return strings.Count(flasks[n].Log(), "GET /api/hello") }
	for i := range 160 {
		if r := do(t, "GET", "http://"+addr+"/api/hello?name=LB", "", "Host: app.example.com"); r.status != 200 || r.body != `{"message":"Hello, LB!"}`+"\n" {
			t.Fatalf("request %d: %d %q", i, r.status, r.body)
		}
	}
	got := map[string]int{}
	for _, n := range names {
		got[n] = count(n)
	}
	t.Logf("requests per backend: %v", got)
	if got["APP_BACKUP"] != 0 {
		t.Errorf("backup served %d requests while primaries are up", got["APP_BACKUP"])
	}
	if got["APP1"] <= got["APP3"] || got["APP2"] <= got["APP3"] || got["APP3"] == 0 || got["APP4"] == 0 {
		t.Errorf("weights 3/3/1/1 not reflected: %v", got)
	}

	for _, n := range []string{"APP1", "APP2", "APP3", "APP4"} {
		flasks[n].Kill()
	}
	h.waitServing(t, false, 5*time.Second, flasks["APP1"].Addr, flasks["APP2"].Addr, flasks["APP3"].Addr, flasks["APP4"].Addr)
	before := count("APP_BACKUP")
	for i := range 10 {
		if r := do(t, "GET", "http://"+addr+"/api/hello", "", "Host: app.example.com"); r.status != 200 {
			t.Fatalf("request %d with primaries down: %d %q", i, r.status, r.body)
		}
	}
	if count("APP_BACKUP")-before != 10 {
		t.Errorf("backup served %d of 10 requests with every primary down", count("APP_BACKUP")-before)
	}
}

// TestHealthgateValidateErrors: bad healthgate and healthz input fails
// `frontdesk validate` with the file, the line and a message.
func TestHealthgateValidateErrors(t *testing.T) {
	cases := []struct {
		name, option, want string
	}{
		{"duration", "interval 5x", `interval: bad duration "5x"`},
		{"rise0", "rise 0", "rise: must be a whole number from 1 to 1000"},
		{"fall0", "fall 0", "fall: must be a whole number from 1 to 1000"},
		{"noport", "to 127.0.0.1", `upstream "127.0.0.1": want host:port`},
		{"regexp", "expect_body (unclosed", "expect_body: error parsing regexp"},
		{"jsonpath", "expect_json checks..db ok", `field path "checks..db" has an empty segment`},
		{"status", "expect_status 2xx 700", `expect_status: "700"`},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, c.name+".Caddyfile")
			text := "http://127.0.0.1:8000 {\n\treverse_proxy {\n\t\tdynamic healthgate web {\n\t\t\tto 127.0.0.1:8081\n\t\t\t" + c.option + "\n\t\t}\n\t}\n}\n"
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(frontdeskBin, "validate", "--config", file, "--adapter", "caddyfile").CombinedOutput()
			if err == nil {
				t.Fatalf("validate accepted %q:\n%s", c.option, out)
			}
			// The message is inside a JSON log line: its quotes are escaped.
			if !strings.Contains(string(out), strings.ReplaceAll(c.want, `"`, `\"`)) || !strings.Contains(string(out), file+":5") {
				t.Errorf("validate output lacks %q or %s:5:\n%s", c.want, file, out)
			}
		})
	}
}

// checkStatusPageInChromium renders the status page in real headless
// Chromium (Debian's chromium) and checks the rendered table.
func checkStatusPageInChromium(t *testing.T, url, downUpstream string) {
	t.Helper()
	requirePeer(t, "chromium")
	// The site answers for 127.0.0.1 too, so no Host override is needed. The
	// flags keep Chromium off the network: it may only load the page.
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size=390,844", "--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v\n%s", err, out)
	}
	dom := string(out)
	for _, want := range []string{
		"Pool app_pool: 5 of 6 serving",
		`<tr data-upstream="` + downUpstream + `">`,
		`<span class="state config_down">config_down</span>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered status page lacks %s:\n%s", want, dom)
		}
	}
}

// TestLoadbalancePolicies runs caddyfile/loadbalance.Caddyfile with the
// seed's other balancing methods: ip_hash keeps a client on one server,
// uri_hash (nginx's `hash $request_uri`) keeps each URI on one server and
// spreads different URIs.
func TestLoadbalancePolicies(t *testing.T) {
	for _, policy := range []string{"ip_hash", "uri_hash"} {
		t.Run(policy, func(t *testing.T) {
			names := []string{"APP1", "APP2", "APP3", "APP4", "APP_BACKUP"}
			backends := map[string]*recordingBackend{}
			env := []string{"HEALTH_INTERVAL=100ms", "LB_POLICY=" + policy, "APP5=127.0.0.1:1"}
			for _, n := range names {
				backends[n] = newRecordingBackend(t, n)
				env = append(env, n+"="+backends[n].addr())
			}
			_, proxy := startCaddyfile(t, repoFile(t, "caddyfile/loadbalance.Caddyfile"), t.TempDir(), env...)
			deadline := time.Now().Add(10 * time.Second)
			for do(t, "GET", "http://"+proxy+"/frontdesk-health", "", "Host: app.example.com").status != 200 {
				if time.Now().After(deadline) {
					t.Fatal("pool not healthy within 10 s")
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Let every primary pass rise (2) checks, so the pool is complete.
			time.Sleep(500 * time.Millisecond)

			served := map[string]string{} // URI -> backend
			for i := 0; i < 60; i++ {
				uri := "/item/" + strconv.Itoa(i%12)
				got := do(t, "GET", "http://"+proxy+uri, "", "Host: app.example.com")
				if got.status != 200 || !strings.HasSuffix(got.body, " "+uri) {
					t.Fatalf("GET %s: %d %q", uri, got.status, got.body)
				}
				backend := strings.Fields(got.body)[1]
				if prev, ok := served[uri]; ok && prev != backend && policy == "uri_hash" {
					t.Errorf("uri_hash: %s went to %s, then %s", uri, prev, backend)
				}
				served[uri] = backend
			}
			distinct := map[string]bool{}
			for _, b := range served {
				distinct[b] = true
			}
			switch policy {
			case "ip_hash":
				// Every request comes from 127.0.0.1: one server gets them all.
				if len(distinct) != 1 {
					t.Errorf("ip_hash spread one client over %v", distinct)
				}
			case "uri_hash":
				if len(distinct) < 2 {
					t.Errorf("uri_hash sent 12 URIs to %v only", distinct)
				}
			}
			if distinct["APP_BACKUP"] {
				t.Errorf("%s used the backup while primaries were up", policy)
			}
		})
	}
}
