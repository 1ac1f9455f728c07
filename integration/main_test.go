// Package integration drives the built frontdesk binary as a user would,
// against real peers installed from Debian: the lab's Flask API
// (python3-flask) and nginx as the oracle for forwarded headers.
package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk-proxy/frontdesk/integration/harness"
)

// frontdeskBin is the binary built once for the whole run.
var frontdeskBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "frontdesk-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	frontdeskBin, err = harness.BuildFrontdesk(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requirePeer fails the test under CI=true when a Debian peer is missing, and
// skips it with the reason elsewhere.
func requirePeer(t *testing.T, pkgs ...string) {
	t.Helper()
	for _, pkg := range pkgs {
		if msg := harness.MissingPeer(pkg); msg != "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s; the test command installs it (see README)", msg)
			}
			t.Skipf("%s; install it with apt-get install %s", msg, pkg)
		}
	}
}

// repoFile is the absolute path of a file in the repository.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, rel)
}

// stopOnCleanup stops p by PID when the test ends, and prints its log if the
// test failed.
func stopOnCleanup(t *testing.T, p *harness.Process) {
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- %s (pid %d) log:\n%s", p.Name, p.PID(), lastLines(p.Log(), 30))
		}
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
