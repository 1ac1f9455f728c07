// Package conf reads dnsmasq configuration lines into a Config: the first
// layer of the dnsmasq app (parse → config → resolver → wire).
//
// Lines are cleaned as dnsmasq does (quotes, comments, spaces), includes
// (conf-file, conf-dir, servers-file, conf-script) are followed, and each
// option is looked up in the option table (table.go), whose entry parses
// its value into the Config. Every error is a *LineError naming the file,
// the line and the option, in dnsmasq --test's words. The package knows
// nothing of the resolver; the dnsmasq package imports it, never the other
// way round.
package conf
