package integration

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// zoneData is the data a zone upstream answers from, as a recursive
// resolver would: the records of a master file, NODATA with the zone's SOA
// for names that exist (or have names below them) without the type asked,
// NXDOMAIN with the SOA for every other name, CNAMEs followed inside the
// data. Unlike fakeUpstream's fixed answers, names that are not in the data
// do not exist, as with a real resolver asked for a LAN name.
type zoneData struct {
	names map[string][]dns.RR // lower-case owner -> records
	ents  map[string]bool     // names that only have names below them
	soa   dns.RR
	aa    []string // answers for names under these are authoritative (a split-DNS server for its own zone)
}

// parseZone reads a zone in master-file format (owner names fully
// qualified). A comment line "; aa <domain>." makes the answers for names
// under the domain authoritative ("; aa ." all of them). A zone without an
// SOA gets "test. 300 IN SOA ...".
func parseZone(t *testing.T, text string) *zoneData {
	t.Helper()
	z := &zoneData{names: map[string][]dns.RR{}, ents: map[string]bool{}}
	for _, l := range strings.Split(text, "\n") {
		if d, ok := strings.CutPrefix(strings.TrimSpace(l), "; aa "); ok {
			z.aa = append(z.aa, strings.ToLower(strings.TrimSpace(d)))
		}
	}
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if rr.Header().Rrtype == dns.TypeSOA && z.soa == nil {
			z.soa = rr
		}
		n := strings.ToLower(rr.Header().Name)
		z.names[n] = append(z.names[n], rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone: %v", err)
	}
	if z.soa == nil {
		z.soa = mustRR("test. 300 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 60")
	}
	for n := range z.names {
		for i := strings.IndexByte(n, '.'); i >= 0 && i < len(n)-1; i = strings.IndexByte(n, '.') {
			n = n[i+1:]
			z.ents[n] = true
		}
	}
	return z
}

// answer fills m, the reply to q.
func (z *zoneData) answer(m *dns.Msg, q dns.Question) {
	name := strings.ToLower(q.Name)
	for _, d := range z.aa {
		m.Authoritative = m.Authoritative || d == "." || dns.IsSubDomain(d, name)
	}
	for hops := 0; hops < 8; hops++ {
		rrs := z.names[name]
		var cname dns.RR
		found := false
		for _, rr := range rrs {
			t := rr.Header().Rrtype
			if t == q.Qtype || q.Qtype == dns.TypeANY {
				c := dns.Copy(rr)
				if hops == 0 {
					c.Header().Name = q.Name // the question's spelling
				}
				m.Answer = append(m.Answer, c)
				found = true
			}
			if t == dns.TypeCNAME {
				cname = rr
			}
		}
		if found {
			return
		}
		if cname != nil && q.Qtype != dns.TypeCNAME {
			c := dns.Copy(cname)
			if hops == 0 {
				c.Header().Name = q.Name
			}
			m.Answer = append(m.Answer, c)
			name = strings.ToLower(cname.(*dns.CNAME).Target)
			continue
		}
		if len(rrs) == 0 && !z.ents[name] {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = append(m.Ns, dns.Copy(z.soa))
		return
	}
}

// startZoneUpstream is a fakeUpstream that answers from a zone (see
// zoneData) instead of its fixed answers.
func startZoneUpstream(t *testing.T, id int, zone *zoneData) *fakeUpstream {
	t.Helper()
	u := &fakeUpstream{id: id, zone: zone}
	u.Addr, u.servers = serveDNSLoopback(t, dns.HandlerFunc(u.serve))
	t.Cleanup(u.Stop)
	return u
}
