// Package exchange sends one query of the dnsmasq app to one upstream
// server and brings back its reply (Client.Exchange): UDP with
// fast-dns-retry, port-limit, query-port and server=...@source#port
// sockets, TCP, ignore-address, and the upstream side of the dumpfile.
// Which servers of a group a query goes to, in which order and how many at
// once (strict-order, all-servers, dnsmasq's server choice), is the
// resolver's forwarder, in the dnsmasq package, like what is done with the
// reply.
//
// It imports internal/conf (Upstream), internal/pcap and internal/netutil;
// only the dnsmasq package imports it.
//
//	client.go      Client: Exchange, TCP, ignore-address
//	udp.go         one UDP exchange: its sockets, retries and reply checks
//	queryport.go   SharedPort: the query-port and @source#port sockets
//	context.go     WithMark (conntrack), WithAccept (add-subnet), WithSent (all-servers)
package exchange
