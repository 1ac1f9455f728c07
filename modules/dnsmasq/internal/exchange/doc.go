// Package exchange sends the dnsmasq app's queries to upstream servers
// and brings back their replies: the choice among a query's servers
// (strict-order, all-servers, else the last one that answered), UDP with
// fast-dns-retry, port-limit, query-port and server=...@source#port
// sockets, TCP, ignore-address, and the upstream side of the dumpfile.
// Which servers a query goes to, and what is done with the reply, is the
// resolver's business, not this package's.
//
// It imports internal/conf (Upstream), internal/pcap and internal/netutil;
// the dnsmasq package and internal/dnssec import it, never the other way
// round.
//
//	forwarder.go   Forwarder: Exchange (failover, all-servers), ExchangeOne, TCP, ignore-address
//	udp.go         one UDP exchange: its sockets, retries and reply checks
//	queryport.go   SharedPort: the query-port and @source#port sockets
//	context.go     WithMark (conntrack) and WithAccept (add-subnet)
package exchange
