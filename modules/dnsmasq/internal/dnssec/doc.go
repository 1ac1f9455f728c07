// Package dnssec validates forwarded answers for the dnsmasq app's
// --dnssec, as dnsmasq 2.90 does: it walks the chain of trust down from
// the trust anchors with DS and DNSKEY queries of its own (cached, within
// the dnssec-limits budget), checks the RRSIGs of each RRset and the NSEC
// or NSEC3 proofs of denials and wildcard answers, and names the first
// failure with an extended DNS error. Strip removes DNSSEC records from a
// section for clients that did not ask for them. When an answer is
// validated, and what AD and the cache make of its status, is the
// resolver's business.
//
// It imports internal/conf (the dnssec options, Upstream) and nothing
// else of the app: its own queries go through the resolver's forwarding,
// given to New as an Exchange. Only the dnsmasq package imports it.
//
//	validator.go   Validator, New, Validate: an answer's RRsets and denial
//	chain.go       the chain of trust: DS and DNSKEY lookups and their caches
//	denial.go      NSEC and NSEC3 proofs, canonical name order
//	rrset.go       grouping a section into RRsets with their RRSIGs
//	timecheck.go   dnssec-no-timecheck and dnssec-timestamp
//	strip.go       Strip
package dnssec
