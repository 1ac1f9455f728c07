package dnsmasq

import (
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// authData is dnsmasq's authoritative mode for one configuration: the
// auth-zone domains (and the reverse zones of their subnets), answered from
// the local data, with SOA and NS records, TTL auth-ttl.
type authData struct {
	cfg    *conf.AuthConfig
	serial uint32
	listen map[netip.Addr]bool // auth-server addresses
	selfNS bool                // auth-server names addresses or interfaces: it is an NS of the zones
	zones  []conf.AuthZone     // last one given first
	revs   []revZone
	exists map[string]bool // names with zone data, and their ancestors
}

// revZone is the in-addr.arpa or ip6.arpa zone of one auth-zone subnet.
type revZone struct {
	name   string       // e.g. 5.168.192.in-addr.arpa
	pfx    netip.Prefix // the subnet rounded down to whole labels
	subnet netip.Prefix
	zone   *conf.AuthZone
}

// newAuthData prepares the auth-zone answers; nil without auth-zone.
func newAuthData(c *conf.Config, s *localStore, ifs []systemIface) *authData {
	ac := &c.Auth
	if len(ac.Zones) == 0 {
		return nil
	}
	ad := &authData{cfg: ac, serial: ac.Serial, listen: map[netip.Addr]bool{}, exists: map[string]bool{},
		selfNS: len(ac.Addrs)+len(ac.Ifaces) > 0}
	if !ac.HasSerial {
		ad.serial = uint32(time.Now().Unix()) // dnsmasq's default: its start time
	}
	for _, a := range authListen(ac, ifs) {
		ad.listen[a] = true
	}
	// dnsmasq looks zones up from the last one given (measured: of nested
	// zones, the one defined last answers).
	ad.zones = append(ad.zones, ac.Zones...)
	slices.Reverse(ad.zones)
	for i := range ad.zones {
		z := &ad.zones[i]
		for _, sn := range z.Subnets {
			// dnsmasq rounds an IPv4 subnet down to whole labels (/20 is
			// x.y.in-addr.arpa) but an IPv6 one up to whole nibbles (/50
			// has 13 nibbles), measured.
			bits := sn.Bits() / 8 * 8
			if sn.Addr().Is6() {
				bits = (sn.Bits() + 3) / 4 * 4
			}
			pfx := netip.PrefixFrom(sn.Addr(), bits).Masked()
			names, err := conf.ReverseZones(pfx)
			if err != nil || pfx.Bits() == 0 {
				continue
			}
			ad.revs = append(ad.revs, revZone{name: names[0], pfx: pfx, subnet: sn, zone: z})
		}
	}
	for name, nd := range s.names {
		if !zoneData(nd) {
			continue
		}
		for n := name; ; {
			ad.exists[n] = true
			_, parent, ok := strings.Cut(n, ".")
			if !ok {
				break
			}
			n = parent
		}
	}
	for _, z := range ac.Zones {
		ad.exists[z.Domain] = true
	}
	return ad
}

// zoneData reports whether a node has data that auth zones serve:
// addresses, a CNAME, or records other than ptr-record's.
func zoneData(nd *node) bool {
	if len(nd.addrs) > 0 || nd.cname != nil {
		return true
	}
	for _, rr := range nd.rrs {
		if zoneRR(nd, rr) {
			return true
		}
	}
	return false
}

// zoneRR reports whether a record of a node is zone data: not ptr-record's
// PTR records, nor the MX records of selfmx and localmx.
func zoneRR(nd *node, rr dns.RR) bool {
	return rr.Header().Rrtype != dns.TypePTR && rr != nd.autoMX
}

// authListen is the auth-server addresses: the addresses given, and those
// of the interfaces given (/4 or /6: only that family).
func authListen(ac *conf.AuthConfig, ifs []systemIface) []netip.Addr {
	out := append([]netip.Addr{}, ac.Addrs...)
	for _, spec := range ac.Ifaces {
		name, fam, _ := strings.Cut(spec, "/")
		for _, i := range ifs {
			if i.name != name {
				continue
			}
			for _, a := range i.addrs {
				if fam == "4" && !a.Is4() || fam == "6" && !a.Is6() || a.IsLinkLocalUnicast() {
					continue
				}
				out = append(out, a.WithZone(""))
			}
		}
	}
	return out
}

// inDomain reports whether name is domain or below it (lower case, no
// trailing dots).
func inDomain(name, domain string) bool {
	return name == domain || strings.HasSuffix(name, "."+domain)
}

// zoneAllows reports whether an address may appear in the zone: inside one of
// its subnets (any, without subnets) and in none of the excluded ones.
func zoneAllows(z *conf.AuthZone, a netip.Addr) bool {
	for _, p := range z.Exclude {
		if p.Contains(a) {
			return false
		}
	}
	if len(z.Subnets) == 0 {
		return true
	}
	for _, p := range z.Subnets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (ad *authData) zoneOf(name string) *conf.AuthZone {
	for i := range ad.zones {
		if inDomain(name, ad.zones[i].Domain) {
			return &ad.zones[i]
		}
	}
	return nil
}

// authAnswer answers the questions dnsmasq's authoritative code answers:
// every question that arrived on an auth-server address, and on the other
// addresses those for names in an auth-zone domain ("local" answers: not
// authoritative except SOA and NS at the apex, addresses not filtered by
// the subnets, recursion available). ok is false for the other questions.
func (r *resolver) authAnswer(req *dns.Msg, client net.Addr, local netip.Addr) (answer, bool) {
	ad := r.auth
	q := req.Question[0]
	name := canon(q.Name)
	onAuth := ad.listen[local.Unmap().WithZone("")]
	if z := ad.zoneOf(name); z != nil {
		if q.Qtype == dns.TypeAXFR && name == z.Domain {
			return ad.axfr(r, z, client, !onAuth), true
		}
		a := ad.forward(r, q, name, z, !onAuth)
		a.noRA = onAuth
		return a, true
	}
	if !onAuth {
		return answer{}, false
	}
	a := answer{rcode: dns.RcodeRefused, noRA: true, source: sourceLocal}
	if p, ok := reversePrefix(name); ok {
		for i := range ad.revs {
			rz := &ad.revs[i]
			// The name's address, padded with zeros, must be in the subnet
			// itself (measured: with 192.168.7.64/26, 7.168.192.in-addr.arpa
			// and 10.7.168.192.in-addr.arpa are refused, though the reverse
			// zone is 7.168.192.in-addr.arpa).
			if rz.subnet.Contains(p.Addr()) {
				a = ad.reverse(r, q, p, rz)
				break
			}
		}
	}
	a.noRA = true
	return a, true
}

func (ad *authData) rrHdr(owner string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: ad.cfg.TTL}
}

func (ad *authData) soa(apex string) dns.RR {
	hm := ad.cfg.Hostmaster
	if hm == "" {
		hm = "hostmaster." + ad.cfg.Server
	}
	return &dns.SOA{Hdr: ad.rrHdr(dns.Fqdn(apex), dns.TypeSOA), Ns: dns.Fqdn(ad.cfg.Server), Mbox: dns.Fqdn(hm),
		Serial: ad.serial, Refresh: ad.cfg.Refresh, Retry: ad.cfg.Retry, Expire: ad.cfg.Expiry, Minttl: ad.cfg.TTL}
}

// ns is the NS set of a zone: this server when auth-server names an
// address or interface, then the auth-sec-servers (forward zones only).
func (ad *authData) ns(apex string, secondaries bool) []dns.RR {
	var out []dns.RR
	if ad.selfNS {
		out = append(out, &dns.NS{Hdr: ad.rrHdr(dns.Fqdn(apex), dns.TypeNS), Ns: dns.Fqdn(ad.cfg.Server)})
	}
	if secondaries {
		for _, s := range ad.cfg.Secondary {
			out = append(out, &dns.NS{Hdr: ad.rrHdr(dns.Fqdn(apex), dns.TypeNS), Ns: dns.Fqdn(s)})
		}
	}
	return out
}

// finish adds the SOA and NS records as dnsmasq does: the SOA for an empty
// answer (into the answer for a SOA query), the NS set after a non-empty
// answer (into the answer for an NS query) — all only when authoritative.
func (ad *authData) finish(a answer, apex string, soaQ, nsQ, secondaries bool) answer {
	if !a.aa {
		return a
	}
	if len(a.answer) == 0 && !nsQ || soaQ {
		if soaQ {
			a.answer = append(a.answer, ad.soa(apex))
		} else {
			a.ns = append(a.ns, ad.soa(apex))
		}
	}
	if len(a.answer) > 0 || nsQ {
		if nsQ {
			a.answer = append(a.answer, ad.ns(apex, secondaries)...)
		} else {
			a.ns = append(a.ns, ad.ns(apex, secondaries)...)
		}
	}
	return a
}

// forward answers a question for a name in zone z; local answers are not
// authoritative (except SOA and NS at the apex) and not filtered by the
// zone's subnets.
func (ad *authData) forward(r *resolver, q dns.Question, name string, z *conf.AuthZone, local bool) answer {
	a := answer{rcode: dns.RcodeSuccess, aa: !local, source: sourceLocal}
	apex := name == z.Domain
	soaQ := apex && q.Qtype == dns.TypeSOA
	nsQ := apex && q.Qtype == dns.TypeNS
	if soaQ || nsQ {
		a.aa = true
		return ad.finish(a, z.Domain, soaQ, nsQ, true)
	}
	owner, cur := q.Name, name
	for i := 0; i < 16; i++ {
		if c := ad.cname(r.store, cur, z); c != nil {
			target := c.Target
			if !strings.Contains(target, ".") {
				target += "." + z.Domain // an unqualified target is in the zone
			}
			a.answer = append(a.answer, &dns.CNAME{Hdr: ad.rrHdr(owner, dns.TypeCNAME), Target: dns.Fqdn(target)})
			if q.Qtype == dns.TypeCNAME || !inDomain(target, z.Domain) {
				break
			}
			// Followed within the same zone (and its subnets).
			owner, cur = dns.Fqdn(target), target
			continue
		}
		a.answer = append(a.answer, ad.records(r, owner, cur, q.Qtype, z, local)...)
		if len(a.answer) == 0 && !ad.exists[cur] {
			a.rcode = dns.RcodeNameError
		}
		break
	}
	return ad.finish(a, z.Domain, false, false, true)
}

// cname is the CNAME of name: its own, else a wildcard one (*.domain,
// matching any name below domain), within zone z.
func (ad *authData) cname(s *localStore, name string, z *conf.AuthZone) *conf.CNAMERec {
	if nd := s.names[name]; nd != nil && nd.cname != nil {
		return nd.cname
	}
	for n := name; ; {
		_, parent, ok := strings.Cut(n, ".")
		if !ok || !inDomain(parent, z.Domain) {
			return nil
		}
		if nd := s.names["*."+parent]; nd != nil && nd.cname != nil {
			return nd.cname
		}
		n = parent
	}
}

// records is the zone data of one name and type: addresses (in the zone's
// subnets unless local), the record options except ptr-record, and
// synth-domain addresses (any). ANY gets nothing, as from dnsmasq.
func (ad *authData) records(r *resolver, owner, name string, qtype uint16, z *conf.AuthZone, local bool) []dns.RR {
	var out []dns.RR
	if nd := r.store.names[name]; nd != nil {
		for _, h := range nd.addrs {
			if typeOf(h.Addr) == qtype && (local || zoneAllows(z, h.Addr)) {
				out = append(out, addrRR(owner, h.Addr, ad.cfg.TTL))
			}
		}
		for _, rr := range nd.rrs {
			if rr.Header().Rrtype == qtype && zoneRR(nd, rr) {
				c := dns.Copy(rr)
				c.Header().Name, c.Header().Ttl = owner, ad.cfg.TTL
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 && (qtype == dns.TypeA || qtype == dns.TypeAAAA) && len(r.cfg.Synth) > 0 {
		// Not filtered by the subnets (measured).
		if sa, ok := r.synth(owner, name, qtype); ok {
			for _, rr := range sa.answer {
				rr.Header().Ttl = ad.cfg.TTL
				out = append(out, rr)
			}
		}
	}
	return out
}

// reverse answers a question for a name in the reverse zone rz (on an
// auth-server address only): SOA and NS at its apex, PTR for the addresses
// of the subnet whose names are in the zone's domain; other types are
// refused.
func (ad *authData) reverse(r *resolver, q dns.Question, p netip.Prefix, rz *revZone) answer {
	a := answer{rcode: dns.RcodeSuccess, aa: true, source: sourceLocal}
	// A SOA or NS question for any name of the zone gets the zone's
	// records, owned by the zone's name (measured on 2.90 with names
	// shorter and longer than the zone's, and with a whole address).
	switch {
	case q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeNS:
		return ad.finish(a, rz.name, q.Qtype == dns.TypeSOA, q.Qtype == dns.TypeNS, false)
	case q.Qtype != dns.TypePTR:
		return answer{rcode: dns.RcodeRefused, source: sourceLocal}
	}
	// A shorter name stands for the address with zeros for the missing
	// labels, as in dnsmasq (measured: 5.168.192.in-addr.arpa is 192.168.5.0).
	{
		full := reverseName(p.Addr())
		seen := map[string]bool{}
		for _, h := range r.store.ptr[full] {
			if inDomain(h.Name, rz.zone.Domain) && !seen[h.Name] {
				seen[h.Name] = true
				a.answer = append(a.answer, &dns.PTR{Hdr: ad.rrHdr(q.Name, dns.TypePTR), Ptr: dns.Fqdn(h.Name)})
			}
		}
		if len(a.answer) == 0 && len(r.cfg.Synth) > 0 {
			if sa, ok := r.synth(q.Name, full, dns.TypePTR); ok {
				if ptr := sa.answer[0].(*dns.PTR); inDomain(canon(ptr.Ptr), rz.zone.Domain) {
					ptr.Hdr.Ttl = ad.cfg.TTL
					a.answer = append(a.answer, ptr)
				}
			}
		}
	}
	if len(a.answer) == 0 {
		a.rcode = dns.RcodeNameError
	}
	return ad.finish(a, rz.name, false, false, false)
}

// axfrAllowed: zone transfers are refused unless auth-sec-servers or
// auth-peer is given; with auth-peer, only from those addresses.
func (ad *authData) axfrAllowed(client net.Addr) bool {
	if len(ad.cfg.Peers) == 0 {
		return len(ad.cfg.Secondary) > 0
	}
	var ip netip.Addr
	switch c := client.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(c.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(c.IP)
	}
	return slices.Contains(ad.cfg.Peers, ip.Unmap())
}

// axfr is the zone transfer of z: SOA, NS, every record of the zone (the
// addresses in its subnets, or all of them for a local query) and the SOA
// again, or REFUSED.
func (ad *authData) axfr(r *resolver, z *conf.AuthZone, client net.Addr, local bool) answer {
	if !ad.axfrAllowed(client) {
		return answer{rcode: dns.RcodeRefused, noRA: true, source: sourceLocal}
	}
	a := answer{rcode: dns.RcodeSuccess, aa: true, noRA: !local, source: sourceLocal}
	a.answer = append(a.answer, ad.soa(z.Domain))
	a.answer = append(a.answer, ad.ns(z.Domain, true)...)
	names := make([]string, 0, len(r.store.names))
	for n := range r.store.names {
		if inDomain(n, z.Domain) && ad.zoneOf(n) == z {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		nd := r.store.names[n]
		owner := dns.Fqdn(n)
		for _, rr := range nd.rrs {
			if zoneRR(nd, rr) {
				c := dns.Copy(rr)
				c.Header().Name, c.Header().Ttl = owner, ad.cfg.TTL
				a.answer = append(a.answer, c)
			}
		}
		if nd.cname != nil {
			target := nd.cname.Target
			if !strings.Contains(target, ".") {
				target += "." + z.Domain
			}
			a.answer = append(a.answer, &dns.CNAME{Hdr: ad.rrHdr(owner, dns.TypeCNAME), Target: dns.Fqdn(target)})
		}
		for _, h := range nd.addrs {
			if local || zoneAllows(z, h.Addr) {
				a.answer = append(a.answer, addrRR(owner, h.Addr, ad.cfg.TTL))
			}
		}
	}
	a.answer = append(a.answer, ad.soa(z.Domain))
	return a
}
