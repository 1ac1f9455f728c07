package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// conf-script=: configuration lines from a shell command, and the errors
// of a failing script.

// TestDnsmasqDiffConfScript covers conf-script=: the value is run by
// `sh -c` (arguments and shell syntax as written), its output is read as
// configuration lines, comments included. (A conf-script line in a
// script's output works in Frontdesk; dnsmasq 2.90 runs it too but the
// inner script's output sometimes fails with an I/O error, so it is not
// compared.)
func TestDnsmasqDiffConfScript(t *testing.T) {
	script := "echo \"address=/s.test/1.2.3.$1\"\necho '# a comment'\necho \"address=/s2.test/$2\"\n"
	diffScenarioFiles(t, `
no-resolv
no-hosts
server={UP1}
conf-script=sh {DIR}/s.sh 9 5.6.7.8
conf-script=echo address=/e.test/1.2.3.4 ; echo address=/f.test/4.4.4.4
conf-script="sh {DIR}/s.sh 7 1.1.1.1"
conf-script=
`, map[string]string{"s.sh": script},
		"s.test. A", "s2.test. A", "e.test. A", "f.test. A", "x.test. A")
}

// TestDnsmasqConfScriptErrors: a script that fails, and a script whose
// output has a bad line, fail the configuration for dnsmasq --test and
// frontdesk validate alike, and both errors name the script.
func TestDnsmasqConfScriptErrors(t *testing.T) {
	requirePeer(t, "dnsmasq")
	dir := t.TempDir()
	for name, c := range map[string]struct{ line, want string }{
		"exit":     {"conf-script=exit 3", "exit 3 returns non-zero error code"},
		"bad-line": {"conf-script=echo address=/x/1.2.3.4.5", "output from echo address=/x/1.2.3.4.5"},
		"missing":  {"conf-script=" + filepath.Join(dir, "nope.sh"), "nope.sh returns non-zero error code"},
	} {
		t.Run(name, func(t *testing.T) {
			conf := filepath.Join(dir, name+".conf")
			writeFile(t, conf, c.line+"\n")
			dmOut, dmErr, fdOut, fdErr := validateBoth(t, dir, conf)
			if dmErr == nil || fdErr == nil {
				t.Fatalf("both should fail; dnsmasq: %v %s; frontdesk: %v %s", dmErr, dmOut, fdErr, lastLines(string(fdOut), 3))
			}
			if !strings.Contains(string(dmOut), c.want) || !strings.Contains(string(fdOut), c.want) {
				t.Errorf("both should say %q:\ndnsmasq: %s\nfrontdesk: %s", c.want, dmOut, lastLines(string(fdOut), 3))
			}
		})
	}
}
