package integration

import (
	"crypto"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// signedTree is a small signed DNS hierarchy, served by signedUpstream as a
// recursive resolver would serve it (every zone from one address):
//
//	.                signed, KSK = the trust anchor, delegates test. (DS)
//	test.            signed; www.test. A; delegates secure.test. (DS),
//	                 insecure.test. (no DS, NSEC proves it), bogus.test. (DS)
//	secure.test.     signed: www A, txt TXT, alias CNAME www, multi A x2
//	insecure.test.   unsigned: www A
//	bogus.test.      signed, but the RRSIG of www A is corrupted
//	                 stripped A (RRSIG removed), old A (RRSIG expired),
//	                 *.wild A, nosig TXT
//	nsec3.test.      signed with NSEC3 (1 iteration, salt): www A
//	badds.test.      signed, but its DS in test. matches no key
//
// Any name whose first label starts with "nosig" is answered without
// DNSSEC records.
//
// Everything is signed once when the tree is built, so two servers of the
// same tree (one for dnsmasq, one for Frontdesk) give byte-identical answers.
type signedTree struct {
	zones  []*signedZone // parents first
	anchor *dns.DS       // DS of the root KSK
}

type rrKey struct {
	name  string // lower case
	rtype uint16
}

type signedZone struct {
	name   string
	signed bool
	nsec3  bool
	key    *dns.DNSKEY
	priv   crypto.Signer
	rrsets map[rrKey][]dns.RR
	sigs   map[rrKey][]dns.RR
	owners map[string]bool
	chain  []dns.RR // NSEC or NSEC3 records, in order
}

const (
	dnssecTestTTL = 300
	nsec3Salt     = "ABCD"
	nsec3Iter     = 1
)

func newSignedZone(t *testing.T, name string, signed bool) *signedZone {
	z := &signedZone{name: name, signed: signed, rrsets: map[rrKey][]dns.RR{}, sigs: map[rrKey][]dns.RR{}, owners: map[string]bool{}}
	z.add(fmt.Sprintf("%s %d IN SOA ns.%s hostmaster.%s 1 3600 600 86400 60", name, dnssecTestTTL, strings.TrimPrefix(name, "."), strings.TrimPrefix(name, ".")))
	z.add(fmt.Sprintf("%s %d IN NS ns.test.", name, dnssecTestTTL))
	if signed {
		z.key = &dns.DNSKEY{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: dnssecTestTTL},
			Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
		pk, err := z.key.Generate(256)
		if err != nil {
			t.Fatal(err)
		}
		z.priv = pk.(crypto.Signer)
		z.addRR(z.key)
	}
	return z
}

func (z *signedZone) add(s string) { z.addRR(mustRR(s)) }

func (z *signedZone) addRR(rr dns.RR) {
	k := rrKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
	z.rrsets[k] = append(z.rrsets[k], rr)
	z.owners[k.name] = true
}

// canonicalLess orders names as RFC 4034 section 6.1 does.
func canonicalLess(a, b string) bool {
	la, lb := dns.SplitDomainName(strings.ToLower(a)), dns.SplitDomainName(strings.ToLower(b))
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if la[i] != lb[j] {
			return la[i] < lb[j]
		}
	}
	return len(la) < len(lb)
}

// sign builds the NSEC (or NSEC3) chain and signs every RRset the zone is
// authoritative for (not the NS of a delegation).
func (z *signedZone) sign(t *testing.T, cuts map[string]bool) {
	if !z.signed {
		return
	}
	var names []string
	for n := range z.owners {
		names = append(names, n)
	}
	types := func(n string) []uint16 {
		var ts []uint16
		for k := range z.rrsets {
			if k.name == n {
				ts = append(ts, k.rtype)
			}
		}
		if !cuts[n] || z.owners[n] && z.rrsets[rrKey{n, dns.TypeDS}] != nil {
			ts = append(ts, dns.TypeRRSIG)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		return ts
	}
	if z.nsec3 {
		type h struct{ hash, name string }
		var hs []h
		for _, n := range names {
			hs = append(hs, h{dns.HashName(n, dns.SHA1, nsec3Iter, nsec3Salt), n})
		}
		sort.Slice(hs, func(i, j int) bool { return hs[i].hash < hs[j].hash })
		for i, x := range hs {
			next := hs[(i+1)%len(hs)].hash
			z.chain = append(z.chain, &dns.NSEC3{Hdr: dns.RR_Header{Name: strings.ToLower(x.hash) + "." + z.name, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: 60},
				Hash: dns.SHA1, Iterations: nsec3Iter, SaltLength: uint8(len(nsec3Salt) / 2), Salt: nsec3Salt,
				HashLength: 20, NextDomain: next, TypeBitMap: types(x.name)})
		}
	} else {
		sort.Slice(names, func(i, j int) bool { return canonicalLess(names[i], names[j]) })
		for i, n := range names {
			ts := append(types(n), dns.TypeNSEC)
			sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
			z.chain = append(z.chain, &dns.NSEC{Hdr: dns.RR_Header{Name: n, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 60},
				NextDomain: names[(i+1)%len(names)], TypeBitMap: ts})
		}
	}
	for _, rr := range z.chain {
		k := rrKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
		z.sigs[k] = z.signSet(t, []dns.RR{rr})
	}
	for k, set := range z.rrsets {
		if k.name != z.name && cuts[k.name] && k.rtype != dns.TypeDS {
			continue // delegation NS: not signed
		}
		z.sigs[k] = z.signSet(t, set)
	}
}

func (z *signedZone) signSet(t *testing.T, set []dns.RR) []dns.RR {
	now := time.Now()
	return z.signSetAt(t, set, now.Add(-time.Hour), now.Add(30*24*time.Hour))
}

// signSetAt signs set with the given validity period.
func (z *signedZone) signSetAt(t *testing.T, set []dns.RR, inception, expiration time.Time) []dns.RR {
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: set[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: set[0].Header().Ttl},
		Algorithm: z.key.Algorithm, KeyTag: z.key.KeyTag(), SignerName: z.name,
		Inception: uint32(inception.Unix()), Expiration: uint32(expiration.Unix())}
	if err := sig.Sign(z.priv, set); err != nil {
		t.Fatal(err)
	}
	return []dns.RR{sig}
}

// newSignedTree builds and signs the test hierarchy.
func newSignedTree(t *testing.T) *signedTree {
	t.Helper()
	root := newSignedZone(t, ".", true)
	test := newSignedZone(t, "test.", true)
	test.add("www.test. 300 IN A 192.0.2.1")
	test.add("ns.test. 300 IN A 127.0.0.1")
	secure := newSignedZone(t, "secure.test.", true)
	secure.add("www.secure.test. 300 IN A 192.0.2.10")
	secure.add("www.secure.test. 300 IN AAAA 2001:db8::10")
	secure.add(`txt.secure.test. 300 IN TXT "signed text"`)
	secure.add("alias.secure.test. 300 IN CNAME www.secure.test.")
	secure.add("multi.secure.test. 300 IN A 192.0.2.11")
	secure.add("multi.secure.test. 300 IN A 192.0.2.12")
	secure.add("out.secure.test. 300 IN CNAME www.insecure.test.")
	secure.add("stripped.secure.test. 300 IN A 192.0.2.13")
	secure.add(`nosig.secure.test. 300 IN TXT "served unsigned"`)
	secure.add("old.secure.test. 300 IN A 192.0.2.14")
	secure.add("*.wild.secure.test. 300 IN A 192.0.2.15")
	secure.add("wild.secure.test. 300 IN TXT \"apex of the wildcard\"")
	insecure := newSignedZone(t, "insecure.test.", false)
	insecure.add("www.insecure.test. 300 IN A 192.0.2.20")
	bogus := newSignedZone(t, "bogus.test.", true)
	bogus.add("www.bogus.test. 300 IN A 192.0.2.30")
	bogus.add("ok.bogus.test. 300 IN A 192.0.2.31")
	n3 := newSignedZone(t, "nsec3.test.", true)
	n3.nsec3 = true
	n3.add("www.nsec3.test. 300 IN A 192.0.2.40")
	badds := newSignedZone(t, "badds.test.", true)
	badds.add("www.badds.test. 300 IN A 192.0.2.50")
	tr := &signedTree{zones: []*signedZone{root, test, secure, insecure, bogus, n3, badds}}

	// Delegations: NS (and DS for signed children) in the parent.
	cuts := map[*signedZone]map[string]bool{}
	for _, c := range tr.zones[1:] {
		p := tr.parent(c)
		if cuts[p] == nil {
			cuts[p] = map[string]bool{}
		}
		cuts[p][c.name] = true
		p.add(fmt.Sprintf("%s 300 IN NS ns.test.", c.name))
		if c.signed {
			ds := c.key.ToDS(dns.SHA256)
			if c.name == "badds.test." {
				ds.KeyTag++ // matches no key of the child
			}
			p.addRR(ds)
		}
	}
	// Children before parents do not matter: each signs its own data.
	for _, z := range tr.zones {
		z.sign(t, cuts[z])
	}
	// bogus.test.: corrupt the signature of www A.
	k := rrKey{"www.bogus.test.", dns.TypeA}
	sig := dns.Copy(bogus.sigs[k][0]).(*dns.RRSIG)
	b := []byte(sig.Signature)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	sig.Signature = string(b)
	bogus.sigs[k] = []dns.RR{sig}
	// secure.test.: stripped.secure.test. A without its RRSIG, the RRSIG
	// of old.secure.test. A expired yesterday.
	delete(secure.sigs, rrKey{"stripped.secure.test.", dns.TypeA})
	secure.sigs[rrKey{"old.secure.test.", dns.TypeA}] = secure.signSetAt(t, secure.rrsets[rrKey{"old.secure.test.", dns.TypeA}],
		time.Now().Add(-30*24*time.Hour), time.Now().Add(-24*time.Hour))
	tr.anchor = root.key.ToDS(dns.SHA256)
	return tr
}

// TrustAnchor is the trust-anchor= line for the root key.
func (tr *signedTree) TrustAnchor() string {
	return fmt.Sprintf("trust-anchor=.,%d,%d,%d,%s", tr.anchor.KeyTag, tr.anchor.Algorithm, tr.anchor.DigestType, tr.anchor.Digest)
}

// TrustAnchorFor is a trust-anchor= line for the key of the zone name.
func (tr *signedTree) TrustAnchorFor(name string) string {
	for _, z := range tr.zones {
		if z.name == name {
			ds := z.key.ToDS(dns.SHA256)
			return fmt.Sprintf("trust-anchor=%s,%d,%d,%d,%s", strings.TrimSuffix(name, "."), ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
		}
	}
	panic("no zone " + name)
}

func (tr *signedTree) parent(c *signedZone) *signedZone {
	var best *signedZone
	for _, z := range tr.zones {
		if z != c && dns.IsSubDomain(z.name, c.name) && (best == nil || dns.CountLabel(z.name) > dns.CountLabel(best.name)) {
			best = z
		}
	}
	return best
}

// zoneFor is the zone that answers qname/qtype: the deepest enclosing one,
// or its parent for DS at a zone apex.
func (tr *signedTree) zoneFor(qname string, qtype uint16) *signedZone {
	var best *signedZone
	for _, z := range tr.zones {
		if dns.IsSubDomain(z.name, qname) && (best == nil || dns.CountLabel(z.name) > dns.CountLabel(best.name)) {
			best = z
		}
	}
	if qtype == dns.TypeDS && best.name == qname && best.name != "." {
		best = tr.parent(best)
	}
	return best
}

// answer fills m for q, with DNSSEC records when do is set.
func (tr *signedTree) answer(m *dns.Msg, q dns.Question, do bool) {
	qname := strings.ToLower(q.Name)
	for hops := 0; hops < 8; hops++ {
		z := tr.zoneFor(qname, q.Qtype)
		put := func(sec *[]dns.RR, k rrKey) {
			*sec = append(*sec, z.rrsets[k]...)
			if do {
				*sec = append(*sec, z.sigs[k]...)
			}
		}
		if set := z.rrsets[rrKey{qname, q.Qtype}]; set != nil {
			put(&m.Answer, rrKey{qname, q.Qtype})
			return
		}
		if wk, ok := z.wildcard(qname, q.Qtype); ok {
			// Expanded from *.<closest encloser>, with the NSEC that proves
			// qname itself does not exist.
			for _, rr := range z.rrsets[wk] {
				c := dns.Copy(rr)
				c.Header().Name = q.Name
				m.Answer = append(m.Answer, c)
			}
			if do {
				for _, rr := range z.sigs[wk] {
					c := dns.Copy(rr)
					c.Header().Name = q.Name
					m.Answer = append(m.Answer, c)
				}
				for _, rr := range z.denial(qname)[:1] {
					m.Ns = append(m.Ns, rr)
					m.Ns = append(m.Ns, z.sigs[rrKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}]...)
				}
			}
			return
		}
		if cn := z.rrsets[rrKey{qname, dns.TypeCNAME}]; cn != nil {
			put(&m.Answer, rrKey{qname, dns.TypeCNAME})
			qname = strings.ToLower(cn[0].(*dns.CNAME).Target)
			continue
		}
		soa := rrKey{z.name, dns.TypeSOA}
		put(&m.Ns, soa)
		if !z.owners[qname] && z.wildcardOwner(qname) == "" {
			m.Rcode = dns.RcodeNameError // else NODATA from the wildcard
		}
		if do && z.signed {
			for _, rr := range z.denial(qname) {
				m.Ns = append(m.Ns, rr)
				m.Ns = append(m.Ns, z.sigs[rrKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}]...)
			}
		}
		return
	}
}

// wildcard finds the wildcard RRset that answers qname/qtype: qname does
// not exist and *.<its closest encloser> has that type.
func (z *signedZone) wildcard(qname string, qtype uint16) (rrKey, bool) {
	w := z.wildcardOwner(qname)
	if w == "" {
		return rrKey{}, false
	}
	k := rrKey{w, qtype}
	_, ok := z.rrsets[k]
	return k, ok
}

// wildcardOwner is the wildcard *.<closest encloser> of a name that does
// not exist, when the zone has it ("" otherwise).
func (z *signedZone) wildcardOwner(qname string) string {
	if z.owners[qname] {
		return ""
	}
	labels := dns.SplitDomainName(qname)
	for i := 1; i < len(labels); i++ {
		ce := strings.Join(labels[i:], ".") + "."
		if z.owners[ce] {
			if z.owners["*."+ce] {
				return "*." + ce
			}
			return ""
		}
	}
	return ""
}

// denial returns the NSEC/NSEC3 records that prove qname has no data of the
// asked type (it exists) or does not exist (and no wildcard matches).
func (z *signedZone) denial(qname string) []dns.RR {
	var out []dns.RR
	seen := map[dns.RR]bool{}
	add := func(rr dns.RR) {
		if rr != nil && !seen[rr] {
			seen[rr] = true
			out = append(out, rr)
		}
	}
	if z.nsec3 {
		find := func(n string, cover bool) dns.RR {
			for _, rr := range z.chain {
				x := rr.(*dns.NSEC3)
				if !cover && x.Match(n) || cover && x.Cover(n) {
					return rr
				}
			}
			return nil
		}
		if z.owners[qname] {
			add(find(qname, false))
			return out
		}
		// Closest encloser proof plus the wildcard.
		ce := qname
		next := qname
		for !z.owners[ce] {
			next = ce
			ce = strings.Join(dns.SplitDomainName(ce)[1:], ".") + "."
			if ce == "." || ce == ".." {
				ce = "."
				break
			}
		}
		add(find(ce, false))
		add(find(next, true))
		add(find("*."+ce, true))
		return out
	}
	find := func(n string) dns.RR {
		for _, rr := range z.chain {
			x := rr.(*dns.NSEC)
			owner, next := x.Hdr.Name, x.NextDomain
			if owner == n {
				return rr
			}
			last := next == z.name
			if canonicalLess(owner, n) && (last || canonicalLess(n, next)) {
				return rr
			}
		}
		return nil
	}
	add(find(qname))
	if !z.owners[qname] {
		ce := qname
		for !z.owners[ce] && ce != "." {
			ce = strings.Join(dns.SplitDomainName(ce)[1:], ".") + "."
			if ce == "." || ce == ".." {
				ce = "."
			}
		}
		w := "*." + ce
		if ce == "." {
			w = "*."
		}
		add(find(w))
	}
	return out
}

// signedUpstream serves a signedTree on loopback UDP and TCP. With ad set
// it marks answers from signed zones (bogus.test. excepted) as authentic,
// as a validating resolver would, for proxy-dnssec.
type signedUpstream struct {
	tree    *signedTree
	Addr    string
	queries atomic.Int64
	servers []*dns.Server
	mu      sync.Mutex
	log     []string // "name TYPE +do/+cd" of each question
}

func startSignedUpstream(t *testing.T, tree *signedTree) *signedUpstream {
	t.Helper()
	u := &signedUpstream{tree: tree}
	u.Addr, u.servers = serveDNSLoopback(t, dns.HandlerFunc(u.serve))
	t.Cleanup(func() {
		for _, s := range u.servers {
			_ = s.Shutdown()
		}
	})
	return u
}

// Dnsmasq is how the upstream is written in a dnsmasq server= line.
func (u *signedUpstream) Dnsmasq() string { return dnsmasqAddr(u.Addr) }

// Log returns the questions received so far.
func (u *signedUpstream) Log() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.log...)
}

func (u *signedUpstream) serve(w dns.ResponseWriter, r *dns.Msg) {
	u.queries.Add(1)
	m := newReply(w, r)
	if m == nil {
		return
	}
	q := r.Question[0]
	do := false
	if o := r.IsEdns0(); o != nil {
		do = o.Do()
	}
	u.mu.Lock()
	entry := q.Name + " " + dns.TypeToString[q.Qtype]
	if do {
		entry += " +do"
	}
	if r.CheckingDisabled {
		entry += " +cd"
	}
	if r.AuthenticatedData {
		entry += " +ad"
	}
	u.log = append(u.log, entry)
	u.mu.Unlock()
	// Names whose first label starts with "nosig" are answered without
	// DNSSEC records, as a broken or forging server would.
	u.tree.answer(m, q, do && !strings.HasPrefix(strings.ToLower(q.Name), "nosig"))
	z := u.tree.zoneFor(strings.ToLower(q.Name), q.Qtype)
	m.AuthenticatedData = (do || r.AuthenticatedData) && z.signed && z.name != "bogus.test."
	size := dns.MinMsgSize
	if o := r.IsEdns0(); o != nil {
		m.SetEdns0(4096, do)
		size = int(o.UDPSize())
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

// TestSignedUpstreamValidates checks the test hierarchy itself: every
// signature of secure.test. verifies with its key, the chain of DS records
// leads to the anchor, and bogus.test.'s www A does not verify.
func TestSignedUpstreamValidates(t *testing.T) {
	tr := newSignedTree(t)
	for _, z := range tr.zones {
		if !z.signed {
			continue
		}
		for k, sigs := range z.sigs {
			set := z.rrsets[k]
			if set == nil {
				for _, rr := range z.chain {
					if strings.ToLower(rr.Header().Name) == k.name && rr.Header().Rrtype == k.rtype {
						set = []dns.RR{rr}
					}
				}
			}
			err := sigs[0].(*dns.RRSIG).Verify(z.key, set)
			if bad := z.name == "bogus.test." && k == (rrKey{"www.bogus.test.", dns.TypeA}); bad != (err != nil) {
				t.Errorf("%s %s: verify = %v", k.name, dns.TypeToString[k.rtype], err)
			}
		}
		if p := tr.parent(z); p != nil {
			ds := p.rrsets[rrKey{z.name, dns.TypeDS}]
			if len(ds) != 1 || !strings.EqualFold(ds[0].(*dns.DS).Digest, z.key.ToDS(dns.SHA256).Digest) {
				t.Errorf("%s: DS in parent does not match", z.name)
			}
		}
	}
	m := new(dns.Msg)
	tr.answer(m, dns.Question{Name: "nx.secure.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, true)
	if m.Rcode != dns.RcodeNameError || len(m.Ns) < 4 {
		t.Errorf("nx.secure.test.: %v", m)
	}
	m = new(dns.Msg)
	tr.answer(m, dns.Question{Name: "nx.nsec3.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, true)
	if m.Rcode != dns.RcodeNameError || len(m.Ns) < 6 {
		t.Errorf("nx.nsec3.test.: %v", m)
	}
}
