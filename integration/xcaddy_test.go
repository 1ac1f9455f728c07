package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// xcaddyVersion is the xcaddy release the Go module proxy serves here.
const xcaddyVersion = "v0.4.6"

// TestXcaddyBuild: `xcaddy build v2.11.9 --with <this checkout>` gives a Caddy
// with the same suite as cmd/frontdesk, through the root package's imports.
func TestXcaddyBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Caddy twice over; skipped with -short")
	}
	root := repoFile(t, ".")
	dir := t.TempDir()

	// xcaddy is built inside a throwaway module: `go install ...@latest` needs
	// a version list, which this module proxy refuses.
	gocmd := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	gocmd("mod", "init", "xcaddybuild")
	gocmd("get", "github.com/caddyserver/xcaddy/cmd/xcaddy@"+xcaddyVersion)
	gocmd("build", "-o", "xcaddy", "github.com/caddyserver/xcaddy/cmd/xcaddy")

	// xcaddy runs `go get github.com/frontdesk-proxy/frontdesk`; for a module
	// replaced by a local directory Go falls back to the replacement only when
	// the proxy says "not found". This proxy answers 403 for unknown modules,
	// so every proxy entry is chained with '|' (fall through on any error) to
	// "off", whose answer counts as "not found".
	// "direct" is dropped: a failed git fetch is not a "not found" either.
	var chain []string
	for _, p := range strings.FieldsFunc(strings.TrimSpace(goEnv(t, "GOPROXY")), func(r rune) bool { return r == ',' || r == '|' }) {
		if p != "direct" && p != "off" {
			chain = append(chain, p)
		}
	}
	proxy := strings.Join(append(chain, "off"), "|")

	caddyBin := filepath.Join(dir, "caddy")
	build := exec.Command(filepath.Join(dir, "xcaddy"), "build", "v2.11.9",
		"--with", "github.com/frontdesk-proxy/frontdesk="+root, "--output", caddyBin)
	build.Dir = dir
	build.Env = append(os.Environ(), "GOPROXY="+proxy)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("xcaddy build: %v\n%s", err, lastLines(string(out), 40))
	}

	mods := run(t, caddyBin, "list-modules")
	for _, m := range frontdeskModules {
		if !containsLine(mods, m) {
			t.Errorf("xcaddy-built list-modules lacks %s", m)
		}
	}
	// The same suite: the lab adapts to the same JSON with both binaries.
	lab := repoFile(t, "caddyfile/lab.Caddyfile")
	if a, b := run(t, caddyBin, "adapt", "--config", lab), run(t, frontdeskBin, "adapt", "--config", lab); a != b {
		t.Errorf("adapted lab differs between the xcaddy build and frontdesk:\n%s\n---\n%s", a, b)
	}
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return string(out)
}
