package dnsmasq

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// TestSelfAddrs: a nameserver is this server itself when it is one of the
// listening addresses on the listening port; a resolv.conf nameserver is
// always port 53.
func TestSelfAddrs(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("# the lab's Part 3\nnameserver 127.0.0.1\nnameserver 127.0.0.2\nnameserver ::1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ups, err := readResolvFile(resolv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		listen []string
		port   int
		server string // as in server=
		self   bool
	}{
		{"resolv.conf on our port 53", []string{"127.0.0.1"}, 53, "", true},
		{"resolv.conf while we listen on 1053", []string{"127.0.0.1"}, 1053, "", false},
		{"wildcard listen on 53", []string{"0.0.0.0"}, 53, "", true},
		{"server= on our port", []string{"127.0.0.1"}, 1053, "127.0.0.1#1053", true},
		{"server= on port 53 while we listen on 1053", []string{"127.0.0.1"}, 1053, "127.0.0.1", false},
		{"server= on another loopback address", []string{"127.0.0.1"}, 1053, "127.0.0.2#1053", false},
		{"server= 0.0.0.0 on our port", []string{"127.0.0.1"}, 1053, "0.0.0.0#1053", true},
		{"server= ::1 while we listen on ::1", []string{"::1"}, 1053, "::1#1053", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSelfAddrs(tc.listen, tc.port)
			u := ups[0] // nameserver 127.0.0.1, port 53
			if tc.server != "" {
				if u, err = conf.ParseUpstream(tc.server); err != nil {
					t.Fatal(err)
				}
			}
			if got := s.isSelf(u); got != tc.self {
				t.Errorf("isSelf(%s) listening on %v port %d = %v, want %v", u.Addr, tc.listen, tc.port, got, tc.self)
			}
		})
	}
	// Only the self entries go, each said once in the log.
	core, logs := observer.New(zap.WarnLevel)
	kept := newSelfAddrs([]string{"127.0.0.1"}, 53).dropSelf(ups, "resolv-file "+resolv, zap.New(core))
	if len(kept) != 2 || kept[0].Addr != "127.0.0.2:53" {
		t.Errorf("kept %v, want 127.0.0.2:53 and [::1]:53", kept)
	}
	if n := logs.FilterField(zap.String("nameserver", "127.0.0.1:53")).Len(); n != 1 {
		t.Errorf("%d log entries for the dropped nameserver, want 1", n)
	}
}

// TestDropSelfServers: a server=/domain/ that is ourselves leaves the
// domain without a server (the less specific rules apply).
func TestDropSelfServers(t *testing.T) {
	c, err := parse(t, "server=127.0.0.1#1053", "server=/corp/127.0.0.1#1053", "server=/lan/192.0.2.1", "server=10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dropSelfServers(c, newSelfAddrs([]string{"127.0.0.1"}, 1053), zap.NewNop())
	if len(c.Servers) != 1 || c.Servers[0].Addr != "10.0.0.1:53" {
		t.Errorf("servers %v, want only 10.0.0.1:53", c.Servers)
	}
	for _, r := range c.Rules {
		if r.Domain == "corp" && len(r.Servers) != 0 {
			t.Errorf("server=/corp/ kept %v", r.Servers)
		}
		if r.Domain == "lan" && len(r.Servers) != 1 {
			t.Errorf("server=/lan/ lost its server")
		}
	}
}
