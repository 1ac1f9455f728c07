package dnsdiff

import (
	"sort"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq"
)

// Why an option of the parser's table is not generated.
const (
	whyInclude   = "reads another file or a command's output: a case is one configuration file (and its hosts files); includes have their own tests (TestConfFileAndDir, confscript_test.go)"
	whyControl   = "a control-plane option (D-Bus, ubus): accepted with a warning, no effect on answers"
	whyListen    = "where and how the server listens: the tester sets port and listen-address itself, on loopback"
	whyTransport = "how forwarded queries are sent (source ports, retries, concurrency, packet size): no effect on the answer to one question from one upstream"
	whyOneServer = "the tester has one upstream and no resolv.conf (it writes no-resolv itself): server order and choice do not show"
	whyHosts     = "the tester writes no-hosts itself so that the machine's /etc/hosts stays out"
	whyMachine   = "answers depend on this machine's interfaces, which dnsmasq and Frontdesk see differently in the tester's loopback setup"
	whySystem    = "a side effect in the kernel (ipset, nftables, conntrack marks): needs privileges, not seen in answers"
	whyLog       = "logging and packet dumps: no effect on answers"
	whyEDNS      = "changes the EDNS options sent upstream, not the answer: not yet generated (needs an upstream that echoes them)"
	whyDNSSEC    = "DNSSEC validation: not yet generated (needs a signed zone upstream); covered by dnssec_test.go and the integration DNSSEC tests"
	whyAuth      = "authoritative mode answers on auth-server addresses only: not yet generated; covered by auth_test.go and the integration auth tests"
	whyRoundRbn  = "record order: the comparison normalises RR order, so round-robin does not show"
	whyStale     = "answers after a cache entry expires: needs waiting out TTLs, too slow for the generated runs"
	whyNotYet    = "not yet generated: an answer option the grammar should cover (listed so the gap stays visible)"
)

// excluded are the options of the table the generator does not write, with
// the reason. Options the table marks Process (how the daemon runs) are
// excluded by that mark.
var excluded = map[string]string{
	"conf-file": whyInclude, "conf-dir": whyInclude, "servers-file": whyInclude, "conf-script": whyInclude,
	"enable-dbus": whyControl, "enable-ubus": whyControl,
	"port": whyListen, "listen-address": whyListen, "interface": whyListen, "except-interface": whyListen,
	"local-service": whyListen, "max-tcp-connections": whyListen,
	"query-port": whyTransport, "min-port": whyTransport, "max-port": whyTransport, "port-limit": whyTransport,
	"fast-dns-retry": whyTransport, "dns-forward-max": whyTransport, "edns-packet-max": whyTransport, "dns-loop-detect": whyTransport,
	"strict-order": whyOneServer, "all-servers": whyOneServer, "no-resolv": whyOneServer, "resolv-file": whyOneServer,
	"no-hosts":       whyHosts,
	"interface-name": whyMachine, "dynamic-host": whyMachine, "localise-queries": whyMachine,
	"ipset": whySystem, "nftset": whySystem, "conntrack": whySystem, "connmark-allowlist-enable": whySystem, "connmark-allowlist": whySystem,
	"log-queries": whyLog, "log-debug": whyLog, "dumpfile": whyLog, "dumpmask": whyLog,
	"add-subnet": whyEDNS, "strip-subnet": whyEDNS, "add-mac": whyEDNS, "strip-mac": whyEDNS, "add-cpe-id": whyEDNS, "umbrella": whyEDNS,
	"dnssec": whyDNSSEC, "proxy-dnssec": whyDNSSEC, "trust-anchor": whyDNSSEC, "dnssec-check-unsigned": whyDNSSEC,
	"dnssec-no-timecheck": whyDNSSEC, "dnssec-timestamp": whyDNSSEC, "dnssec-debug": whyDNSSEC, "dnssec-limits": whyDNSSEC,
	"auth-server": whyAuth, "auth-zone": whyAuth, "auth-soa": whyAuth, "auth-sec-servers": whyAuth, "auth-peer": whyAuth,
	"no-round-robin":  whyRoundRbn,
	"use-stale-cache": whyStale,
	"rev-server":      whyNotYet, "hostsdir": whyNotYet, "synth-domain": whyNotYet, "alias": whyNotYet, "ignore-address": whyNotYet,
	"cache-rr": whyNotYet, "filterwin2k": whyNotYet, "no-ident": whyNotYet,
}

// whyProcess is the reason for the options the table marks Process.
const whyProcess = "how the dnsmasq daemon runs (user, pid file, binding, logging facility): accepted and ignored by Frontdesk"

// Coverage walks the parser's option table: every option must be generated
// (a production of options) or excluded with a reason. It returns the
// options that are neither, the generated or excluded names the table does
// not have, and the options both generated and excluded.
func Coverage(table []dnsmasq.OptionSpec) (missing, unknown, both []string) {
	gen := map[string]bool{}
	for _, o := range options {
		gen[o.name] = true
	}
	inTable := map[string]bool{}
	for _, s := range table {
		inTable[s.Name] = true
		_, ex := excluded[s.Name]
		ex = ex || s.Process
		switch {
		case gen[s.Name] && ex:
			both = append(both, s.Name)
		case !gen[s.Name] && !ex:
			missing = append(missing, s.Name)
		}
	}
	for n := range gen {
		if !inTable[n] {
			unknown = append(unknown, n)
		}
	}
	for n := range excluded {
		if !inTable[n] {
			unknown = append(unknown, n)
		}
	}
	sort.Strings(unknown)
	return missing, unknown, both
}

// Excluded is why the generator does not write option, or "" when it does
// (or the table does not have it).
func Excluded(s dnsmasq.OptionSpec) string {
	if s.Process {
		return whyProcess
	}
	return excluded[s.Name]
}
