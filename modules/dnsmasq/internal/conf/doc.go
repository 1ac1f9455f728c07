// Package conf reads dnsmasq configuration lines into a Config: the first
// layer of the dnsmasq app (parse → config → resolver → wire).
//
// Lines are cleaned as dnsmasq does (quotes, comments, spaces), includes
// (conf-file, conf-dir, servers-file, conf-script) are followed, and each
// option is looked up in the option table, whose entry parses its value
// into the Config. Every error is a *LineError naming the file, the line
// and the option, in dnsmasq --test's words. The package knows nothing of
// the resolver; the dnsmasq package imports it, never the other way round.
//
// The files, by the path a line takes:
//
//	lines.go       reading files, cleaning a line, Line and LineError
//	parse.go       ParseLines: the line loop and the checks of the whole configuration
//	includes.go    conf-file, conf-dir, servers-file, enable-dbus; confscript.go: conf-script
//	options.go     the skipped DHCP, TFTP and router-advertisement options
//	table.go       the option table: name, arity, field kinds, doc, parse function
//	arg.go         the building blocks of parse functions (flag, intIn, needVal, ...)
//	optargs.go     value syntax shared by options (numbers, names, hex, types)
//	config.go      Config and the types of its fields
//
// and one file of parse functions per feature: servers.go (server, local,
// address, rev-server, resolv-file, fast-dns-retry), hosts.go, hostrecord.go
// (host-record, cname), records.go, domainrange.go, ifnames.go, synth.go,
// rebind.go, filter.go, alias.go, cache.go, listen.go, logging.go, edns.go,
// dnssec.go, authconfig.go, sets.go (ipset, nftset), connmark.go.
package conf
