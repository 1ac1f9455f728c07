package dnsmasq

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// readHostsFile parses a hosts file: "<address> <name> [<alias>...]" per
// line, '#' comments. The first name of a line answers the PTR query.
func readHostsFile(path string) ([]conf.HostEntry, error) {
	var out []conf.HostEntry
	err := eachLine(path, func(line string) bool {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fs := strings.Fields(line)
		if len(fs) < 2 {
			return true
		}
		// dnsmasq reads the address with inet_pton: no zone (it logs
		// "bad address" and skips the line), and an IPv4-mapped IPv6
		// address stays IPv6 (an AAAA record, measured).
		a, err := conf.ParseAddr(fs[0])
		if err != nil {
			return true
		}
		for i, n := range fs[1:] {
			if validName(n) {
				out = append(out, conf.HostEntry{Name: conf.NameKey(n), Addr: a, TTL: -1, Reverse: i == 0})
			}
		}
		return true
	})
	return out, err
}

// hostsFiles expands addn-hosts and hostsdir arguments into files, in the
// order dnsmasq reads them: the plain files first, then the files of each
// directory (option.c expand_filelist moves a directory's files to the end
// of the list). A path that cannot be read is passed to skip and left out,
// as dnsmasq logs it and goes on.
func hostsFiles(paths []string, skip func(path string, err error)) []string {
	var out, inDirs []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			skip(p, err)
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			skip(p, err)
			continue
		}
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") && !strings.HasSuffix(e.Name(), "~") {
				inDirs = append(inDirs, filepath.Join(p, e.Name()))
			}
		}
	}
	return append(out, inDirs...)
}

// loadHosts reads /etc/hosts (unless no-hosts), addn-hosts and hostsdir.
// An addn-hosts or hostsdir path that cannot be read is passed to skip and
// loads nothing: dnsmasq 2.90 logs "failed to load names from" (or "bad
// dynamic directory") and goes on (measured).
func loadHosts(c *conf.Config, etcHosts string, skip func(path string, err error)) []conf.HostEntry {
	var paths []string
	if !c.NoHosts {
		paths = append(paths, etcHosts)
	}
	// The last addn-hosts line is read first: option.c prepends each to
	// daemon->addn_hosts.
	addn := slices.Clone(c.AddnHosts)
	slices.Reverse(addn)
	more := hostsFiles(append(addn, c.HostsDirs...), skip)
	var out []conf.HostEntry
	for _, p := range append(paths, more...) {
		hs, err := readHostsFile(p)
		if err != nil {
			if p != etcHosts || !os.IsNotExist(err) {
				skip(p, err)
			}
			continue
		}
		if c.ExpandHosts {
			// expand-hosts adds the domain (of the address's domain= range,
			// else the plain domain=) to plain names in hosts files, just
			// before the plain name, as dnsmasq reads them (cache.c
			// read_hostsfile): the expanded name answers the reverse query.
			var ex []conf.HostEntry
			for _, h := range hs {
				if d := domainFor(c, h.Addr); d != "" && !strings.Contains(h.Name, ".") {
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
	return out
}
