package conf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// ParseLines parses dnsmasq options, following conf-file and conf-dir.
func ParseLines(lines []Line) (*Config, error) {
	c := defaultConfig()
	p := &parser{c: c, seen: map[string]bool{}, first: map[string]Line{}}
	if err := p.lines(lines, 0); err != nil {
		return nil, err
	}
	c.dropShadowedCatchAll()
	if err := p.checkRebindDotless(); err != nil {
		return nil, err
	}
	if len(c.Auth.Zones) > 0 && c.Auth.Server == "" {
		return nil, &LineError{p.first["auth-zone"], errors.New("auth-zone needs auth-server (the name of this server, for the SOA and NS records)")}
	}
	target := c.DefaultMXTarget()
	for _, mx := range c.mxDefault {
		mx.Mx = Presentation(target)
	}
	if c.MXTarget != "" && len(c.MXHosts) == 0 {
		// mx-target without mx-host: an MX for this machine's own name.
		if h, err := os.Hostname(); err == nil && ValidName(h) {
			// Preference 0 here, unlike mx-host's default 1 (measured).
			c.Records = append(c.Records, &dns.MX{Hdr: Hdr(h, dns.TypeMX), Mx: Presentation(c.MXTarget), Preference: 0})
			c.MXHosts = append(c.MXHosts, NameKey(h))
		}
	}
	if err := c.DNSSEC.check(c.CacheSize); err != nil {
		return nil, &LineError{p.first["dnssec"], err}
	}
	return c, nil
}

type parser struct {
	c    *Config
	seen map[string]bool
	// first holds the first line of each option, for errors about the
	// whole configuration (auth-zone without auth-server, dnssec without
	// a root trust anchor).
	first map[string]Line
}

func (p *parser) lines(lines []Line, depth int) error {
	if depth > 16 {
		return errors.New("dnsmasq: conf-file/conf-dir nested too deeply")
	}
	for _, l := range lines {
		text, err := cleanLine(l.Text)
		if err != nil {
			return &LineError{l, err}
		}
		if text == "" {
			continue
		}
		name, val, hasVal := strings.Cut(text, "=")
		if !l.fromFile {
			// A Caddyfile line may be written as on dnsmasq's command
			// line; in a file dnsmasq refuses "--name" as a bad option.
			name = strings.TrimPrefix(name, "--")
		}
		spec, known := byName[name]
		if known && spec.line != nil {
			if err := spec.line(p, l, val, hasVal, depth); err != nil {
				return err
			}
			continue
		}
		if isIgnored(name) {
			p.c.Ignored = append(p.c.Ignored, l)
			continue
		}
		if known && spec.Process {
			continue
		}
		if notYet[name] {
			return &LineError{l, fmt.Errorf("option --%s is a dnsmasq DNS option that Frontdesk does not implement yet", name)}
		}
		if !known {
			return &LineError{l, errors.New("bad option")}
		}
		if !spec.Quoted {
			val = unquoter.Replace(val)
		}
		if err := spec.parse(p, arg{name: name, val: val, has: hasVal}); err != nil {
			return &LineError{l, err}
		}
		if _, ok := p.first[name]; !ok {
			p.first[name] = l
		}
		if _, ok := p.first[rebindDotlessKey]; !ok && name == "rebind-domain-ok" && slices.Contains(p.c.RebindOK, "") {
			p.first[rebindDotlessKey] = l
		}
	}
	return nil
}

func (p *parser) include(l Line, files []string, depth int) error {
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		if p.seen[abs] {
			continue // dnsmasq reads each file once
		}
		p.seen[abs] = true
		ls, err := readConfFile(f)
		if err != nil {
			return &LineError{l, fmt.Errorf("cannot read %s: %w", f, UnwrapPathErr(err))}
		}
		if err := p.lines(ls, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// UnwrapPathErr is the error inside an *os.PathError (the file name is said
// elsewhere in the message), or err itself.
func UnwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func badArg(opt string) error { return fmt.Errorf("bad argument to --%s", opt) }

// dropShadowedCatchAll removes the local catch-all rules (address=/#/ or
// server=/#/ without an address, address=, server=, local=) when the
// configuration has a plain server=: dnsmasq keeps both under the empty
// domain, and there a server wins over a local rule (domain-match.c,
// filter_servers; measured on 2.90), so such a rule never answers.
func (c *Config) dropShadowedCatchAll() {
	if len(c.Servers) == 0 {
		return
	}
	c.Rules = slices.DeleteFunc(c.Rules, func(r DomainRule) bool {
		return r.Domain == CatchAll && (r.NX || r.Local)
	})
}
