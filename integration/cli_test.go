package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// frontdeskModules are the module IDs the suite registers.
var frontdeskModules = []string{
	"admin.api.dnsmasq",
	"admin.api.frontdesk_dashboard",
	"admin.api.healthgate",
	"admin.api.proxy_cache",
	"dnsmasq",
	"http.handlers.error_page",
	"http.handlers.frontdesk_dashboard",
	"http.handlers.header_policy",
	"http.handlers.health_status",
	"http.handlers.healthz",
	"http.handlers.proxy_cache",
	"http.handlers.proxy_cache.storage.disk",
	"http.handlers.proxy_cache.storage.memory",
	"http.handlers.proxy_cache.storage.redis",
	"http.reverse_proxy.upstreams.healthgate",
}

// TestBinaryCommands: the binary behaves as Caddy's does for version,
// list-modules, adapt and validate.
func TestBinaryCommands(t *testing.T) {
	out := run(t, frontdeskBin, "version")
	if !regexp.MustCompile(`^Frontdesk \S+.* \(.*http\.handlers\.header_policy.*\) on Caddy v2\.11\.\d+ `).MatchString(out) {
		t.Errorf("version: %q, want Frontdesk <revision> (<its modules>) on Caddy v2.11.x", out)
	}
	if help := run(t, frontdeskBin, "--help"); !strings.Contains(help, "Frontdesk is") || !strings.Contains(help, "frontdesk run --config") {
		t.Errorf("--help does not introduce Frontdesk:\n%s", help)
	}
	// Exactly the suite beyond Caddy's standard modules.
	ours := strings.Fields(strings.Split(run(t, frontdeskBin, "list-modules", "--skip-standard"), "Non-standard modules")[0])
	if strings.Join(ours, " ") != strings.Join(frontdeskModules, " ") {
		t.Errorf("list-modules --skip-standard: %v, want %v", ours, frontdeskModules)
	}
	mods := run(t, frontdeskBin, "list-modules")
	for _, m := range append(frontdeskModules, "http.handlers.reverse_proxy", "http.handlers.file_server", "tls.issuance.internal") {
		if !containsLine(mods, m) {
			t.Errorf("list-modules lacks %s", m)
		}
	}
}

// TestEveryCaddyfileAdaptsAndValidates: every file in caddyfile/ adapts and
// validates as it ships (its environment defaults).
func TestEveryCaddyfileAdaptsAndValidates(t *testing.T) {
	files, err := filepath.Glob(repoFile(t, "caddyfile/*.Caddyfile"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Caddyfiles found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			env := append(os.Environ(), "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "FRONTDESK_LOG_DIR="+t.TempDir())
			if files := caddyfileEnv[filepath.Base(f)]; files != nil {
				env = append(env, files(t)...)
			}
			adapt := exec.Command(frontdeskBin, "adapt", "--config", f, "--validate")
			adapt.Env = env
			adapted, err := adapt.Output()
			if err != nil || !strings.HasPrefix(strings.TrimSpace(string(adapted)), "{") {
				t.Errorf("adapt --validate %s: %v\n%s", f, err, adapted)
			}
			// validate provisions every module.
			validate := exec.Command(frontdeskBin, "validate", "--config", f)
			validate.Env = env
			if out, err := validate.CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid configuration") {
				t.Errorf("validate %s: %v\n%s", f, err, out)
			}
		})
	}
}

// caddyfileEnv gives the Caddyfiles that name files of the user's (a
// certificate, say) an environment in which those files exist.
var caddyfileEnv = map[string]func(t *testing.T) []string{
	"tls.Caddyfile": func(t *testing.T) []string { env, _ := tlsEnv(t); return env },
}

// TestValidateRejectsBadHeaderPolicy: a bad header_policy fails adapt and
// validate with the file, the line and what is wrong.
func TestValidateRejectsBadHeaderPolicy(t *testing.T) {
	cases := []struct {
		name, block string
		line        int
		want        string
	}{
		{"unknown preset", "\theader_policy apache\n", 2, `unknown preset "apache" (known presets: nginx)`},
		{"bad CIDR", "\theader_policy nginx {\n\t\ttrusted_proxies 10.0.0.0/33\n\t}\n", 3, `trusted_proxies: "10.0.0.0/33" is not a CIDR range`},
		{"not an address", "\theader_policy nginx {\n\t\ttrusted_proxies 10.0.0.0/8 proxy.local\n\t}\n", 3, `trusted_proxies: "proxy.local" is neither an IP address, a CIDR range nor private_ranges`},
		{"unknown subdirective", "\theader_policy nginx {\n\t\thide Server\n\t\tx_real_ip on\n\t}\n", 4, `unknown option "x_real_ip"`},
		{"bad switch", "\theader_policy {\n\t\treal_ip yes\n\t}\n", 3, `real_ip: want on or off, got "yes"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertSiteRejected(t, "header_policy", c.block, c.line, c.want) })
	}
}

// assertSiteRejected writes a site with block (lines of directives, before
// a reverse_proxy) and checks that adapt and validate both fail with an
// error naming the directive, the file and line, and want.
func assertSiteRejected(t *testing.T, directive, block string, line int, want string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bad.Caddyfile")
	body := "http://myapp.local:8000 {\n" + block + "\treverse_proxy 127.0.0.1:8080\n}\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"adapt", "validate"} {
		out, err := exec.Command(frontdeskBin, sub, "--config", path).CombinedOutput()
		if err == nil {
			t.Errorf("%s accepted the bad Caddyfile:\n%s", sub, out)
			continue
		}
		msg := logMessages(out)
		where := path + ":" + strconv.Itoa(line)
		if !strings.Contains(msg, want) || !strings.Contains(msg, where) || !strings.Contains(msg, directive) {
			t.Errorf("%s error should name %q, %q and %s:\n%s", sub, where, want, directive, msg)
		}
	}
}

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %v: %v\n%s%s", bin, args, err, out, stderr)
	}
	return string(out)
}

// logMessages returns the "msg" of every JSON log line in out, one a line, and
// the other lines as they are.
func logMessages(out []byte) string {
	var sb strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		var entry struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg != "" {
			line = entry.Msg
		}
		sb.WriteString(line + "\n")
	}
	return sb.String()
}

func containsLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// TestValidateRejectsUnknownPool: healthz and health_status lines that name
// a pool no `dynamic healthgate` block defines fail adapt and validate with
// the file, the line and the pools that exist; a pool defined further down,
// in another site, is found.
func TestValidateRejectsUnknownPool(t *testing.T) {
	pool := "\treverse_proxy {\n\t\tdynamic healthgate app_pool {\n\t\t\tto 127.0.0.1:9061\n\t\t}\n\t}\n"
	cases := []struct {
		name, directive, block string
		line                   int
		want                   string
	}{
		{"healthz typo", "healthz", "\thealthz /hz app_pol\n" + pool, 2, `healthz: pool "app_pol" is not defined by any ` + "`dynamic healthgate`" + ` block (defined: app_pool)`},
		{"health_status pools line", "health_status", "\thealth_status /status {\n\t\tpools app_pool web\n\t}\n" + pool, 2, `health_status: pool "web" is not defined`},
		{"no pool at all", "healthz", "\thealthz /hz app_pool\n", 2, `(defined: none`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertSiteRejected(t, c.directive, c.block, c.line, c.want) })
	}
	// Defined in a later site: valid.
	path := filepath.Join(t.TempDir(), "ok.Caddyfile")
	body := "{\n\tadmin off\n}\nhttp://a.test:8000 {\n\thealthz /hz later_pool\n}\nhttp://b.test:8000 {\n" +
		"\treverse_proxy {\n\t\tdynamic healthgate later_pool {\n\t\t\tto 127.0.0.1:9061\n\t\t}\n\t}\n}\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(frontdeskBin, "validate", "--config", path).CombinedOutput(); err != nil {
		t.Errorf("a pool defined in a later site was not found: %v\n%s", err, logMessages(out))
	}
}
