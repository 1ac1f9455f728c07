package main

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// The DNS benchmark's upstream: this program re-executed with -serve-dns,
// a small miekg/dns server on UDP and TCP that answers A for upstreamNames
// and, for the benchmark itself, how many queries it has answered.

// upstreamZone is the domain the upstream serves; the servers measured
// forward it there and cache the answers.
const upstreamZone = "upstream.bench."

// upstreamNames is how many names (n0 ... n99 under upstreamZone) answer.
const upstreamNames = 100

// upstreamTTL is the TTL of every upstream answer: long enough that nothing
// expires from the caches during a benchmark.
const upstreamTTL = 3600

// countName is the TXT name whose answer is the number of queries the
// upstream has answered, not counting these.
const countName = "count." + upstreamZone

// upstreamName returns the i-th name the upstream answers.
func upstreamName(i int) string { return fmt.Sprintf("n%d.%s", i, upstreamZone) }

// upstreamHandler answers A 127.0.0.1 for the upstream names, NXDOMAIN for
// other names in the zone, and REFUSED elsewhere; queries counts them.
func upstreamHandler(queries *atomic.Int64) dns.HandlerFunc {
	names := make(map[string]bool, upstreamNames)
	for i := range upstreamNames {
		names[upstreamName(i)] = true
	}
	return func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		if len(r.Question) != 1 {
			m.Rcode = dns.RcodeFormatError
			w.WriteMsg(m)
			return
		}
		q := r.Question[0]
		name := dns.CanonicalName(q.Name)
		if name == countName {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET},
				Txt: []string{strconv.FormatInt(queries.Load(), 10)},
			})
			w.WriteMsg(m)
			return
		}
		queries.Add(1)
		switch {
		case names[name]:
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: upstreamTTL},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		case dns.IsSubDomain(upstreamZone, name):
			m.Rcode = dns.RcodeNameError
		default:
			m.Rcode = dns.RcodeRefused
		}
		w.WriteMsg(m)
	}
}

// serveDNS runs the upstream on addr (UDP and TCP) until the process is
// killed or its parent goes away.
func serveDNS(addr string) error {
	var queries atomic.Int64
	h := upstreamHandler(&queries)
	errs := make(chan error, 2)
	for _, network := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: addr, Net: network, Handler: h}
		go func() { errs <- srv.ListenAndServe() }()
	}
	go exitWithParent()
	return <-errs
}

// dnsExchange sends one query for name and type over UDP to addr.
func dnsExchange(addr, name string, qtype uint16) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// upstreamCount asks the upstream on addr how many queries it has answered.
func upstreamCount(addr string) (int64, error) {
	r, err := dnsExchange(addr, countName, dns.TypeTXT)
	if err != nil {
		return 0, err
	}
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TXT); ok && len(t.Txt) == 1 {
			return strconv.ParseInt(t.Txt[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("upstream count: no TXT answer in %v", r)
}

// checkA queries addr for name's A record and wants exactly 127.0.0.1.
func checkA(addr, name string) error {
	r, err := dnsExchange(addr, name, dns.TypeA)
	if err != nil {
		return fmt.Errorf("%s A: %v", name, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("%s A: rcode %s", name, dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.Equal(net.IPv4(127, 0, 0, 1)) && len(r.Answer) == 1 {
			return nil
		}
	}
	return fmt.Errorf("%s A: answer %v, want one A 127.0.0.1", name, r.Answer)
}
