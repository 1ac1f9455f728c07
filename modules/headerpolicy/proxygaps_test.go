package headerpolicy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/frontdesk-proxy/frontdesk/modules/internal/adaptedfile"
)

// TestProxyGaps: each reverse_proxy beside `header_policy nginx` is told
// which of the two lines it lacks, and where.
func TestProxyGaps(t *testing.T) {
	cases := []struct {
		name  string
		proxy string // the reverse_proxy directive, at line 3
		want  []string
	}{
		{"bare", "reverse_proxy 127.0.0.1:8080", []string{"`header_up -Via` to its block", "`transport http { compression off }` to its block"}},
		{"both lines", "reverse_proxy 127.0.0.1:8080 {\n\t\theader_up -Via\n\t\ttransport http {\n\t\t\tcompression off\n\t\t}\n\t}", nil},
		{"via in other case", "reverse_proxy 127.0.0.1:8080 {\n\t\theader_up -via\n\t\ttransport http {\n\t\t\tcompression off\n\t\t}\n\t}", nil},
		{"no Via line", "reverse_proxy 127.0.0.1:8080 {\n\t\ttransport http {\n\t\t\tcompression off\n\t\t}\n\t}", []string{"`header_up -Via` to its block"}},
		{"transport without compression off", "reverse_proxy 127.0.0.1:8080 {\n\t\theader_up -Via\n\t\ttransport http {\n\t\t\tdial_timeout 5s\n\t\t}\n\t}", []string{"`compression off` to its `transport http` block (line 5)"}},
		{"fastcgi transport", "reverse_proxy 127.0.0.1:9000 {\n\t\theader_up -Via\n\t\ttransport fastcgi\n\t}", nil},
		{"other header_up", "reverse_proxy 127.0.0.1:8080 {\n\t\theader_up -X-Other\n\t\ttransport http {\n\t\t\tcompression off\n\t\t}\n\t}", []string{"`header_up -Via` to its block"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "Caddyfile")
			body := "http://a.test {\n\theader_policy nginx\n\t" + c.proxy + "\n\trespond /x 200\n}\n"
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			at := caddyfile.Token{File: path, Line: 2, Text: "header_policy"}
			f, ok := adaptedfile.ReadPath(path, at)
			if !ok {
				t.Fatal("not read")
			}
			_, siblings := f.Find(at)
			var got []string
			var rp *adaptedfile.Directive
			for _, d := range siblings {
				for _, g := range proxyGaps(d) {
					got = append(got, g.fix)
					rp = d
				}
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("gaps %q, want %q", got, c.want)
			}
			if rp == nil {
				return
			}
			msg := proxyGapMessage(at, rp, proxyGaps(rp))
			for _, want := range append([]string{path + ":2", "reverse_proxy at " + path + ":3"}, c.want...) {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}
