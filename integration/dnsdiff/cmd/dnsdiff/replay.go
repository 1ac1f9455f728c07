package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/integration/dnsdiff"
)

// replay runs the case files named by paths on both servers and prints both
// answers to every query, marking the ones that differ: the view for
// debugging one regression case without the whole suite. With explain,
// dnsmasq logs its queries (log-queries=extra) and the log follows each
// case: where dnsmasq's answer came from (cached, forwarded, config).
func replay(w io.Writer, dir, bin string, paths []string, explain bool) error {
	s, err := dnsdiff.NewServers(filepath.Join(dir, "servers"), bin)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		c, err := dnsdiff.ParseCase(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		fmt.Fprintf(w, "== %s\n", p)
		if explain {
			c.Config = append(c.Config, "log-queries=extra")
		}
		if err := s.Load(c); err != nil {
			fmt.Fprintf(w, "load: %v\n", err)
			continue
		}
		for _, q := range c.Queries {
			want, got := s.Ask(dnsdiff.Dnsmasq, q), s.Ask(dnsdiff.Frontdesk, q)
			mark := "same"
			if d := dnsdiff.Compare(want, got); d != nil {
				mark = "DIFFERS: " + d.Signature
			}
			fmt.Fprintf(w, "-- %s: %s (upstream queries: dnsmasq %d, frontdesk %d)\n  dnsmasq:   %s\n  frontdesk: %s\n",
				q, mark, want.Upstream, got.Upstream,
				strings.Join(want.Key(), "\n             "), strings.Join(got.Key(), "\n             "))
		}
		if explain {
			fmt.Fprintf(w, "-- dnsmasq's log:\n%s", s.DnsmasqLog())
		}
	}
	return nil
}
