package dnsmasq

import (
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("dnsmasq", parseGlobalOption)
}

// parseGlobalOption parses the global option
//
//	{
//	    dnsmasq {
//	        <dnsmasq.conf line>
//	        ...
//	    }
//	}
//
// into the `dnsmasq` app. Each line is a dnsmasq option as in dnsmasq.conf,
// except `site_records [<address>...]`, Frontdesk's own (see SiteRecords).
// The Caddyfile lexer splits a line into tokens at spaces; they are joined
// again with one space. A token that the lexer unquoted (one that starts
// with " or `) is quoted again for dnsmasq, except a first token, which is
// taken literally: so a whole line in backticks is passed through exactly,
// which is the way to write a line containing " #" or several spaces in a
// row (the lexer would read " #" as the start of a comment).
func parseGlobalOption(d *caddyfile.Dispenser, existing any) (any, error) {
	app := new(App)
	if existing != nil {
		return nil, d.Err("dnsmasq: the global option may appear only once")
	}
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "dnsmasq", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile reads the dnsmasq block; see parseGlobalOption.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // option name
	if d.NextArg() {
		return d.Errf("dnsmasq: unexpected argument %q; write dnsmasq options inside a block", d.Val())
	}
	for d.NextBlock(0) {
		tok := d.Token()
		if tok.Text == "site_records" && !tok.Quoted() {
			// Frontdesk's extension: not a dnsmasq option.
			sr := &SiteRecords{Addresses: d.RemainingArgs()}
			if _, err := sr.addrs(); err != nil {
				return d.Errf("dnsmasq: %v", err)
			}
			a.SiteRecords = sr
			continue
		}
		l := Line{File: tok.File, Line: tok.Line, Text: tok.Text}
		for d.NextArg() {
			t := d.Token()
			text := t.Text
			if t.Quoted() {
				text = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(text) + `"`
			}
			l.Text += " " + text
		}
		a.Lines = append(a.Lines, l)
	}
	// Check now, so that `adapt` and `validate` report file, line and option.
	if _, err := ParseLines(a.Lines); err != nil {
		return err
	}
	return nil
}
