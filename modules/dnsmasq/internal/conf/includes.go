package conf

import (
	"errors"
	"fmt"
	"strings"
)

// The options that read more lines (conf-file, servers-file, conf-dir,
// conf-script) or keep the line itself (enable-dbus, enable-ubus). Their
// errors carry their own line, so they return a *LineError.

func (p *parser) confFile(l Line, val string, hasVal bool, depth int) error {
	if !hasVal || val == "" {
		return &LineError{l, errors.New("missing file name in --conf-file")}
	}
	return p.include(l, []string{val}, depth)
}

// serversFile is like conf-file, but only server= and rev-server= lines.
func (p *parser) serversFile(l Line, val string, hasVal bool, depth int) error {
	if !hasVal || val == "" {
		return &LineError{l, errors.New("missing file name in --servers-file")}
	}
	ls, err := readConfFile(val)
	if err != nil {
		return &LineError{l, fmt.Errorf("cannot read %s: %w", val, UnwrapPathErr(err))}
	}
	for _, sl := range ls {
		t, _ := cleanLine(sl.Text)
		n, _, _ := strings.Cut(t, "=")
		if t != "" && n != "server" && n != "rev-server" {
			return &LineError{sl, errors.New("only --server and --rev-server are allowed in a --servers-file")}
		}
	}
	return p.lines(ls, depth+1)
}

func (p *parser) confDir(l Line, val string, hasVal bool, depth int) error {
	if !hasVal || val == "" {
		return &LineError{l, errors.New("missing directory in --conf-dir")}
	}
	files, err := confDirFiles(val)
	if err != nil {
		return &LineError{l, fmt.Errorf("cannot read directory %s: %w", strings.Split(val, ",")[0], err)}
	}
	return p.include(l, files, depth)
}

// controlPlane keeps an enable-dbus or enable-ubus line: accepted with a
// warning, since the admin API replaces them.
func (p *parser) controlPlane(l Line, _ string, _ bool, _ int) error {
	p.c.ControlPlane = append(p.c.ControlPlane, l)
	return nil
}
