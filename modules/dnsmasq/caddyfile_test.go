package dnsmasq

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func adapt(t *testing.T, body string) (*App, error) {
	t.Helper()
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(body), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Apps map[string]json.RawMessage `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	app := new(App)
	if err := json.Unmarshal(cfg.Apps["dnsmasq"], app); err != nil {
		t.Fatal(err)
	}
	return app, nil
}

// TestCaddyfileLines: real dnsmasq.conf lines survive the Caddyfile lexer,
// with their file and line.
func TestCaddyfileLines(t *testing.T) {
	app, err := adapt(t, "{\n"+
		"\tdnsmasq {\n"+
		"\t\taddress=/myapp.local/127.0.0.1\n"+
		"\t\tserver=1.2.3.4#53\n"+
		"\t\ttxt-record=name,\"quoted, text\"\n"+
		"\t\tno-resolv # a comment\n"+
		"\t\t`txt-record=lit,\"a  #b\"`\n"+
		"\t\ttxt-record=sp, \"two words\"\n"+
		"\t\tport = 1053\n"+
		"\t}\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"address=/myapp.local/127.0.0.1",
		"server=1.2.3.4#53",
		`txt-record=name,"quoted, text"`,
		"no-resolv",
		`txt-record=lit,"a  #b"`,
		`txt-record=sp, "two words"`,
		"port = 1053",
	}
	if len(app.Lines) != len(want) {
		t.Fatalf("lines: %+v", app.Lines)
	}
	for i, w := range want {
		if app.Lines[i].Text != w || app.Lines[i].Line != i+3 || app.Lines[i].File != "Caddyfile" {
			t.Errorf("line %d: got %+v, want %q at line %d", i, app.Lines[i], w, i+3)
		}
	}
	c, err := ParseLines(app.Lines)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 1053 || c.Servers[0].Addr != "1.2.3.4:53" {
		t.Errorf("parsed: %+v", c)
	}
	var txts []string
	for _, rr := range c.Records {
		txts = append(txts, rr.String())
	}
	got := strings.Join(txts, "\n")
	for _, w := range []string{`"quoted, text"`, `"a  #b"`, `"two words"`} {
		if !strings.Contains(got, w) {
			t.Errorf("records %q lack %s", got, w)
		}
	}
}

func TestCaddyfileSiteRecords(t *testing.T) {
	app, err := adapt(t, "{\n\tdnsmasq {\n\t\tsite_records 10.0.0.1 ::1\n\t\tno-hosts\n\t}\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	if app.SiteRecords == nil || strings.Join(app.SiteRecords.Addresses, " ") != "10.0.0.1 ::1" || len(app.Lines) != 1 {
		t.Errorf("got %+v %+v", app.SiteRecords, app.Lines)
	}
	if _, err := adapt(t, "{\n\tdnsmasq {\n\t\tsite_records nope\n\t}\n}\n"); err == nil || !strings.Contains(err.Error(), "bad address") {
		t.Errorf("bad address: %v", err)
	}
}

func TestCaddyfileErrors(t *testing.T) {
	for body, want := range map[string]string{
		"{\n\tdnsmasq {\n\t\tno-resolv\n\t\tbogus-option\n\t}\n}\n":              "bad option at line 4 of Caddyfile",
		"{\n\tdnsmasq {\n\t\taddress=/x/1.2.3.4.5\n\t}\n}\n":                     "bad address in --address at line 3 of Caddyfile",
		"{\n\tdnsmasq extra\n}\n":                                                "unexpected argument",
		"{\n\tdnsmasq {\n\t\ttxt-record=a,\"x #y\"\n\t}\n}\n":                    `missing "`,
		"{\n\tdnsmasq {\n\t\tno-hosts\n\t}\n\tdnsmasq {\n\t\tno-hosts\n\t}\n}\n": "only once",
	} {
		_, err := adapt(t, body)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
}

// TestCaddyfileForwardLines: the forwarding options with '@', '#' and ','
// pass through the Caddyfile unchanged.
func TestCaddyfileForwardLines(t *testing.T) {
	lines := []string{"server=1.2.3.4#53@lo@127.0.0.2#5353", "server=/x.test/::1@lo", "add-subnet=24,fd00::1/56",
		"umbrella=deviceid:0123456789abcdef,orgid:1", "add-cpe-id=cpe#1", "fast-dns-retry=200,1000", "query-port=0"}
	app, err := adapt(t, "{\n\tdnsmasq {\n\t\t"+strings.Join(lines, "\n\t\t")+"\n\t}\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range lines {
		if i >= len(app.Lines) || app.Lines[i].Text != w {
			t.Fatalf("lines: %+v, want %q", app.Lines, lines)
		}
	}
	c, err := ParseLines(app.Lines)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Servers[0]; u.Iface != "lo" || u.Source.String() != "127.0.0.2:5353" || c.EDNS.CPEID != "cpe#1" {
		t.Errorf("parsed: %+v %+v", u, c.EDNS)
	}
}
