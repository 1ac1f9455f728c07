package headerpolicy

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"

	// The reverse_proxy directive, for the adaptation test.
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Handler
	}{
		{"bare directive", `header_policy`, Handler{}},
		{"preset only", `header_policy nginx`, Handler{Preset: "nginx"}},
		{"empty preset name", `header_policy ""`, Handler{}},
		{"empty block", "header_policy nginx {\n}", Handler{Preset: "nginx"}},
		{
			name: "every option",
			input: `header_policy nginx {
				trusted_proxies 10.0.0.0/8 192.0.2.1
				trusted_proxies private_ranges 2001:db8::/32
				host_header client
				real_ip off
				x_forwarded_host on
				forwarded
				request_id X-Correlation-ID
				hide Server X-Powered-By
				hide X-Debug
				set X-Env lab
				set x-client "{http.request.remote.host}"
				remove X-Internal
				remove X-Other
			}`,
			want: Handler{
				Preset:         "nginx",
				TrustedProxies: []string{"10.0.0.0/8", "192.0.2.1", "private_ranges", "2001:db8::/32"},
				HostHeader:     "client",
				RealIP:         ptr(false),
				ForwardedHost:  ptr(true),
				Forwarded:      true,
				RequestID:      "X-Correlation-ID",
				Hide:           []string{"Server", "X-Powered-By", "X-Debug"},
				Request: &headers.HeaderOps{
					Set:    http.Header{"X-Env": {"lab"}, "X-Client": {"{http.request.remote.host}"}},
					Delete: []string{"X-Internal", "X-Other"},
				},
			},
		},
		{
			name: "no preset, the other switch values",
			input: `header_policy {
				host_header hostname
				real_ip on
				x_forwarded_host off
				request_id
			}`,
			want: Handler{
				HostHeader:    "hostname",
				RealIP:        ptr(true),
				ForwardedHost: ptr(false),
				RequestID:     "X-Request-ID",
			},
		},
		{
			name:  "remove only",
			input: "header_policy {\n\tremove X-Debug\n}",
			want:  Handler{Request: &headers.HeaderOps{Set: http.Header{}, Delete: []string{"X-Debug"}}},
		},
		{
			name:  "later set of the same field wins",
			input: "header_policy {\n\tset X-Env a\n\tset X-Env b\n}",
			want:  Handler{Request: &headers.HeaderOps{Set: http.Header{"X-Env": {"b"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handler
			if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input)); err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if !reflect.DeepEqual(h, tt.want) {
				gotJSON, _ := json.Marshal(h)
				wantJSON, _ := json.Marshal(tt.want)
				t.Fatalf("got  %s\nwant %s", gotJSON, wantJSON)
			}
			// Whatever the Caddyfile accepts, Provision accepts too.
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			if err := h.Provision(ctx); err != nil {
				t.Fatalf("Provision: %v", err)
			}
			if err := h.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
		line    int
	}{
		{"unknown preset", `header_policy foo`,
			`header_policy: unknown preset "foo" (known presets: nginx)`, 1},
		{"preset is case-sensitive", "header_policy Nginx {\n}",
			`header_policy: unknown preset "Nginx"`, 1},
		{"second argument", `header_policy nginx apache`,
			`header_policy: unexpected argument "apache" (want at most a preset name)`, 1},
		{"trusted_proxies without ranges", "header_policy {\n\ttrusted_proxies\n}",
			`header_policy: trusted_proxies: needs at least one IP range or private_ranges`, 2},
		{"trusted_proxies bad IP", "header_policy {\n\tforwarded\n\ttrusted_proxies 10.0.0.0/8 300.1.1.1\n}",
			`header_policy: trusted_proxies: "300.1.1.1" is neither an IP address, a CIDR range nor private_ranges`, 3},
		{"trusted_proxies bad CIDR", "header_policy {\n\ttrusted_proxies 10.0.0.0/33\n}",
			`header_policy: trusted_proxies: "10.0.0.0/33" is not a CIDR range`, 2},
		{"trusted_proxies host name", "header_policy {\n\ttrusted_proxies lb.internal\n}",
			`header_policy: trusted_proxies: "lb.internal" is neither`, 2},
		{"host_header without value", "header_policy {\n\thost_header\n}",
			`header_policy: host_header: want exactly one of client, hostname`, 2},
		{"host_header bad value", "header_policy {\n\thost_header server\n}",
			`header_policy: host_header: want exactly one of client, hostname`, 2},
		{"host_header two values", "header_policy {\n\thost_header client hostname\n}",
			`header_policy: host_header: want exactly one of client, hostname`, 2},
		{"real_ip without value", "header_policy {\n\treal_ip\n}",
			`header_policy: real_ip: want on or off`, 2},
		{"real_ip bad value", "header_policy {\n\treal_ip yes\n}",
			`header_policy: real_ip: want on or off, got "yes"`, 2},
		{"real_ip two values", "header_policy {\n\treal_ip on off\n}",
			`header_policy: real_ip: want on or off`, 2},
		{"x_forwarded_host bad value", "header_policy {\n\n\tx_forwarded_host true\n}",
			`header_policy: x_forwarded_host: want on or off, got "true"`, 3},
		{"x_forwarded_host without value", "header_policy {\n\tx_forwarded_host\n}",
			`header_policy: x_forwarded_host: want on or off`, 2},
		{"forwarded with argument", "header_policy {\n\tforwarded on\n}",
			`header_policy: forwarded: takes no arguments`, 2},
		{"request_id bad field", "header_policy {\n\trequest_id \"X Request\"\n}",
			`header_policy: request_id: "X Request" is not a valid header field name`, 2},
		{"request_id two fields", "header_policy {\n\trequest_id X-A X-B\n}",
			`header_policy: request_id: takes at most one header field name`, 2},
		{"hide without field", "header_policy {\n\thide\n}",
			`header_policy: hide: needs at least one header field name`, 2},
		{"hide bad field", "header_policy {\n\thide Server X-Bad:\n}",
			`header_policy: hide: "X-Bad:" is not a valid header field name`, 2},
		{"set one argument", "header_policy {\n\tset X-Env\n}",
			`header_policy: set: want <field> <value>`, 2},
		{"set three arguments", "header_policy {\n\tset X-Env a b\n}",
			`header_policy: set: want <field> <value>`, 2},
		{"remove without field", "header_policy {\n\tremove\n}",
			`header_policy: remove: want exactly one <field>`, 2},
		{"remove two fields", "header_policy {\n\tremove X-A X-B\n}",
			`header_policy: remove: want exactly one <field>`, 2},
		{"unknown option", "header_policy nginx {\n\tforwarded\n\n\tbogus 1\n}",
			`header_policy: unknown option "bogus" (known: trusted_proxies, host_header, real_ip, x_forwarded_host, forwarded, request_id, hide, set, remove)`, 4},
		{"nested block", "header_policy {\n\thide {\n\t\tServer\n\t}\n}",
			`header_policy: hide: needs at least one header field name`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input))
			if err == nil {
				t.Fatalf("UnmarshalCaddyfile succeeded, want error %q", tt.wantErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) {
				t.Fatalf("error = %q, want it to contain %q", msg, tt.wantErr)
			}
			if !strings.HasPrefix(msg, "header_policy: ") {
				t.Errorf("error = %q, want it to start with the directive name", msg)
			}
			if wantLine := ", at Testfile:" + strconv.Itoa(tt.line); !strings.HasSuffix(msg, wantLine) {
				t.Errorf("error = %q, want it to end with %q", msg, wantLine)
			}
		})
	}
}

// TestCaddyfileAdapt adapts a whole Caddyfile: the directive is registered,
// ordered before reverse_proxy, and produces the handler's JSON.
func TestCaddyfileAdapt(t *testing.T) {
	adapter := caddyconfig.GetAdapter("caddyfile")
	if adapter == nil {
		t.Fatal("caddyfile adapter not registered")
	}
	const input = `http://myapp.local:8000 {
	reverse_proxy 127.0.0.1:8080
	header_policy nginx {
		trusted_proxies private_ranges
		request_id
	}
}
`
	out, warnings, err := adapter.Adapt([]byte(input), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatalf("Adapt: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []struct {
							Handler string          `json:"handler"`
							Routes  json.RawMessage `json:"routes"`
						} `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	// The site's handlers sit in a subroute.
	var handlers []map[string]any
	for _, srv := range cfg.Apps.HTTP.Servers {
		for _, r := range srv.Routes {
			for _, h := range r.Handle {
				var sub []struct {
					Handle []map[string]any `json:"handle"`
				}
				if err := json.Unmarshal(h.Routes, &sub); err != nil {
					t.Fatal(err)
				}
				for _, s := range sub {
					handlers = append(handlers, s.Handle...)
				}
			}
		}
	}
	if len(handlers) != 2 {
		t.Fatalf("adapted handlers: %v\nfull config: %s", handlers, out)
	}
	if handlers[0]["handler"] != "header_policy" || handlers[1]["handler"] != "reverse_proxy" {
		t.Fatalf("handler order = %v, %v; want header_policy, reverse_proxy", handlers[0]["handler"], handlers[1]["handler"])
	}
	want := map[string]any{
		"handler":         "header_policy",
		"preset":          "nginx",
		"trusted_proxies": []any{"private_ranges"},
		"request_id":      "X-Request-ID",
	}
	if !reflect.DeepEqual(handlers[0], want) {
		t.Fatalf("header_policy JSON = %v, want %v", handlers[0], want)
	}

	// A Caddyfile mistake fails adaptation with the file and line.
	_, _, err = adapter.Adapt([]byte("http://x {\n\theader_policy nginx {\n\t\ttrusted_proxies 300.1.1.1\n\t}\n}\n"),
		map[string]any{"filename": "Caddyfile"})
	if err == nil || !strings.Contains(err.Error(), `header_policy: trusted_proxies: "300.1.1.1" is neither`) ||
		!strings.Contains(err.Error(), "Caddyfile:3") {
		t.Fatalf("Adapt error = %v, want the trusted_proxies error at Caddyfile:3", err)
	}
}

// FuzzUnmarshalCaddyfile checks that no token stream makes the parser panic,
// that its errors name the directive and the line, and that whatever it
// accepts also provisions.
func FuzzUnmarshalCaddyfile(f *testing.F) {
	for _, s := range []string{
		"header_policy",
		"header_policy nginx",
		"header_policy nginx {\n}",
		"header_policy nginx {\n\ttrusted_proxies 10.0.0.0/8 192.0.2.1\n\ttrusted_proxies private_ranges\n\thost_header client\n\treal_ip off\n\tx_forwarded_host on\n\tforwarded\n\trequest_id X-Correlation-ID\n\thide Server X-Powered-By\n\tset X-Env lab\n\tremove X-Internal\n}",
		"header_policy {\n\trequest_id\n\thost_header hostname\n}",
		"header_policy foo",
		"header_policy nginx apache",
		"header_policy {\n\ttrusted_proxies 300.1.1.1\n}",
		"header_policy {\n\ttrusted_proxies\n}",
		"header_policy {\n\treal_ip yes\n}",
		"header_policy {\n\thide {\n\t\tServer\n\t}\n}",
		"header_policy {\n\tforwarded {\n\t}\n}",
		"header_policy {\n\tbogus\n}",
		"header_policy { forwarded }",
		"header_policy {\n}\n}\n}",
		"header_policy \"\" {\n\tset \"\" \"\"\n}",
		"{\n}",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		tokens, err := caddyfile.Tokenize([]byte(input), "Testfile")
		if err != nil {
			return // the lexer's business, not the directive's
		}
		var h Handler
		err = h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens))
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "header_policy: ") || !strings.Contains(msg, ", at Testfile:") {
				t.Fatalf("error %q does not name the directive and the line", msg)
			}
			return
		}
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		defer cancel()
		if err := h.Provision(ctx); err != nil {
			t.Fatalf("Caddyfile %q accepted, but Provision fails: %v", input, err)
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("Caddyfile %q accepted, but Validate fails: %v", input, err)
		}
	})
}
