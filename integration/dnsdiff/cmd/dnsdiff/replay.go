package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/frontdesk-proxy/frontdesk/integration/dnsdiff"
)

// replay runs case c (from the file at path) on both servers and prints
// both answers to every query, marking the ones that differ: the view for
// debugging one regression case without the whole suite. With explain,
// dnsmasq logs its queries (log-queries=extra) and the log follows the
// case: where dnsmasq's answer came from (cached, forwarded, config).
func replay(w io.Writer, s *dnsdiff.Servers, path string, c *dnsdiff.Case, explain bool) error {
	fmt.Fprintf(w, "== %s\n", path)
	if explain {
		c.Config = append(c.Config, "log-queries=extra")
	}
	if err := s.Load(c); err != nil {
		fmt.Fprintf(w, "load: %v\n", err)
		return nil
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
	return nil
}
