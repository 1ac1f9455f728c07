// Package pcap writes the dumpfile= of the dnsmasq app: DNS messages
// wrapped in IPv4 or IPv6 and UDP headers, in a pcap file byte for byte as
// dnsmasq 2.90 writes it, filtered by the dumpmask= kinds.
//
// It imports only the standard library; the dnsmasq package and
// internal/exchange import it.
package pcap
