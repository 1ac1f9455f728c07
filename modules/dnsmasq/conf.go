package dnsmasq

import (
	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// Line is one dnsmasq option as written, with where it came from.
type Line = conf.Line

// ParseLines parses dnsmasq options, following conf-file and conf-dir.
func ParseLines(lines []Line) (*conf.Config, error) { return conf.ParseLines(lines) }

func canon(s string) string                   { return conf.Canon(s) }
func lower(s string) string                   { return conf.Lower(s) }
func validName(s string) bool                 { return conf.ValidName(s) }
func hdr(name string, t uint16) dns.RR_Header { return conf.Hdr(name, t) }
func presentation(s string) string            { return conf.Presentation(s) }

// FilePieceMax is how many bytes of a line dnsmasq reads from a
// configuration file at once; a longer line counts as one line for each
// piece (see the README, "Writing dnsmasq lines in a Caddyfile").
const FilePieceMax = conf.FilePieceMax

// OptionSpec is one entry of the option table: the option's name, its
// arity and value fields, whether lines repeat, and a short doc. The
// differential tester's generator walks the same table.
type OptionSpec = conf.Spec

// Options is the option table, sorted by name: every option the
// configuration parser knows besides the skipped DHCP, TFTP and
// router-advertisement ones.
func Options() []OptionSpec { return conf.Options() }

// The arities of an OptionSpec: no value, a value, or either.
const (
	FlagArity     = conf.Flag
	RequiredArity = conf.Required
	OptionalArity = conf.Optional
)
