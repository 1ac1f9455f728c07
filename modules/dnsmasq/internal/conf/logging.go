package conf

// The parse functions of the logging options (see table.go).

import (
	"strconv"
)

// optLogQueries parses log-queries.
func optLogQueries(p *parser, o arg) error {
	c := p.c
	// log-queries=extra and =proto only add detail to the log line.
	if o.has && o.val != "extra" && o.val != "proto" {
		return badArg(o.name)
	}
	c.LogQueries = true
	return nil
}

// optDumpFile parses dumpfile.
func optDumpFile(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	c.DumpFile = o.val
	return nil
}

// optDumpMask parses dumpmask.
func optDumpMask(p *parser, o arg) error {
	c := p.c
	if err := o.needVal(); err != nil {
		return err
	}
	n, err := strconv.ParseUint(o.val, 0, 32)
	if err != nil {
		return badArg(o.name)
	}
	c.DumpMask = uint32(n)
	return nil
}
