package integration

import "strings"

// Building the Caddyfiles the tests write: one global options block, with
// the dnsmasq app's block among its options.

// globalBlock is a Caddyfile's global options block: the admin endpoint
// on $FRONTDESK_ADMIN (the free port harness.StartFrontdesk gives it), then
// each option indented by a tab (a multi-line one keeps its own indentation
// below that).
func globalBlock(options ...string) string {
	var b strings.Builder
	b.WriteString("{\n\tadmin {$FRONTDESK_ADMIN}\n")
	for _, o := range options {
		b.WriteString("\t" + strings.ReplaceAll(o, "\n", "\n\t") + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// dnsmasqBlock is the dnsmasq app's global option: one dnsmasq option a
// line, in order.
func dnsmasqBlock(lines ...string) string {
	return "dnsmasq {\n\t" + strings.Join(lines, "\n\t") + "\n}"
}
