package dnsmasq

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// readHostsFile parses a hosts file: "<address> <name> [<alias>...]" per
// line, '#' comments. The first name of a line answers the PTR query.
func readHostsFile(path string) ([]hostEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []hostEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		a, err := netip.ParseAddr(fs[0])
		if err != nil {
			continue // dnsmasq logs and skips bad lines
		}
		a = a.Unmap()
		for i, n := range fs[1:] {
			if !validName(n) {
				continue
			}
			out = append(out, hostEntry{Name: canon(n), Addr: a, TTL: -1, Reverse: i == 0})
		}
	}
	return out, sc.Err()
}

// hostsFiles expands addn-hosts and hostsdir arguments into files: a
// directory stands for every file in it.
func hostsFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathErr(err))
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") && !strings.HasSuffix(e.Name(), "~") {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	return out, nil
}

// loadHosts reads /etc/hosts (unless no-hosts), addn-hosts and hostsdir.
func (c *Config) loadHosts(etcHosts string) ([]hostEntry, error) {
	var paths []string
	if !c.NoHosts {
		paths = append(paths, etcHosts)
	}
	more, err := hostsFiles(append(append([]string{}, c.AddnHosts...), c.HostsDirs...))
	if err != nil {
		return nil, err
	}
	var out []hostEntry
	for _, p := range append(paths, more...) {
		hs, err := readHostsFile(p)
		if err != nil {
			if p == etcHosts && os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("cannot read %s: %w", p, unwrapPathErr(err))
		}
		if c.ExpandHosts {
			// expand-hosts adds the domain (of the address's domain= range,
			// else the plain domain=) to plain names in hosts files, just
			// before the plain name, as dnsmasq reads them (cache.c
			// read_hostsfile): the expanded name answers the reverse query.
			var ex []hostEntry
			for _, h := range hs {
				if d := c.domainFor(h.Addr); d != "" && !strings.Contains(h.Name, ".") {
					e := h
					e.Name = h.Name + "." + d
					ex = append(ex, e)
					h.Reverse = false
				}
				ex = append(ex, h)
			}
			hs = ex
		}
		out = append(out, hs...)
	}
	return out, nil
}
