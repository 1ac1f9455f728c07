package dnsmasq

import (
	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// The configuration is parsed by internal/conf (the option table and its
// parse functions); these names let the resolver, the store and the wire
// code read it as before.
type (
	// Config is the typed form of the dnsmasq options Frontdesk implements.
	Config = conf.Config
	// Upstream is one forwarding target of server=, local= or rev-server=.
	Upstream = conf.Upstream
	// AuthConfig is what the auth-* options say.
	AuthConfig = conf.AuthConfig
	// DNSSECConfig holds the DNSSEC options of a configuration.
	DNSSECConfig = conf.DNSSECConfig
	// Line is one dnsmasq option as written, with where it came from.
	Line = conf.Line
	// LineError is a configuration error located at a Line.
	LineError = conf.LineError

	domainRule     = conf.DomainRule
	hostEntry      = conf.HostEntry
	cnameRec       = conf.CNAMERec
	aliasRule      = conf.AliasRule
	synthDomain    = conf.SynthDomain
	authZone       = conf.AuthZone
	ifaceName      = conf.IfaceName
	domainRange    = conf.DomainRange
	ednsConfig     = conf.EDNSConfig
	subnetSpec     = conf.SubnetSpec
	setRule        = conf.SetRule
	nftSet         = conf.NFTSet
	connmarkConfig = conf.ConnmarkConfig
	connmarkList   = conf.ConnmarkList
)

// ParseLines parses dnsmasq options, following conf-file and conf-dir.
func ParseLines(lines []Line) (*Config, error) { return conf.ParseLines(lines) }

func canon(s string) string                   { return conf.Canon(s) }
func validName(s string) bool                 { return conf.ValidName(s) }
func hdr(name string, t uint16) dns.RR_Header { return conf.Hdr(name, t) }
func presentation(s string) string            { return conf.Presentation(s) }

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
