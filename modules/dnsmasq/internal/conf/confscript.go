package conf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// confScript runs conf-script=<command>: like dnsmasq 2.90 (measured), the
// whole value is given to `sh -c`, so the script gets its arguments (and
// any shell syntax) as written; what it prints on stdout is read as a
// configuration file, its stderr goes to Frontdesk's, and a non-zero exit
// fails the configuration. Errors in its output name the command and the
// line of the output. An empty value does nothing, as with dnsmasq.
func (p *parser) confScript(l Line, cmdline string, depth int) error {
	cmdline = unquoter.Replace(cmdline)
	if cmdline == "" {
		return nil
	}
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &LineError{l, fmt.Errorf("%s returns non-zero error code %d", cmdline, ee.ExitCode())}
		}
		return &LineError{l, fmt.Errorf("running --conf-script %s: %w", cmdline, err)}
	}
	ls, err := readConfLines(&out, "output from "+cmdline)
	if err != nil {
		return &LineError{l, fmt.Errorf("reading the output of %s: %w", cmdline, err)}
	}
	return p.lines(ls, depth+1)
}
