package dnsmasq

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestMatchesOrder(t *testing.T) {
	c, err := parse(t, "server=/google.com/10.0.0.1", "server=/*google.com/10.0.0.2", "server=/*.sub.test/10.0.0.3",
		"server=/www.google.com/#", "server=//10.0.0.4", "address=/#/1.2.3.4")
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(c, nil)
	describe := func(name string) []string {
		var out []string
		for _, rs := range s.matches(name, nil) {
			d := rs.domain
			if rs.wildcard {
				d = "*" + d
			}
			out = append(out, d)
		}
		return out
	}
	for name, want := range map[string][]string{
		"google.com":      {"google.com", "*google.com", "#"},
		"www.google.com":  {"www.google.com", "google.com", "*google.com", "#"},
		"supergoogle.com": {"*google.com", "#"},
		"sub.test":        {"#"},
		"a.sub.test":      {"*.sub.test", "#"},
		"plain":           {"", "#"},
		"other.org":       {"#"},
	} {
		got := describe(name)
		if len(got) != len(want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: got %q, want %q", name, got, want)
				break
			}
		}
	}
}

func TestReversePrefix(t *testing.T) {
	for name, want := range map[string]string{
		"4.3.2.1.in-addr.arpa": "1.2.3.4/32",
		"168.192.in-addr.arpa": "192.168.0.0/16",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa": "fd00::1/128",
		"d.f.ip6.arpa": "fd00::/8",
	} {
		p, ok := reversePrefix(name)
		if !ok || p.String() != want {
			t.Errorf("%s: got %v %v, want %s", name, p, ok, want)
		}
	}
	for _, bad := range []string{"256.1.1.1.in-addr.arpa", "x.in-addr.arpa", "1.2.3.4.5.in-addr.arpa", "gg.ip6.arpa", "example.com"} {
		if _, ok := reversePrefix(bad); ok {
			t.Errorf("%s accepted", bad)
		}
	}
	if !privateReverse("1.1.168.192.in-addr.arpa") || privateReverse("8.8.8.8.in-addr.arpa") {
		t.Error("privateReverse")
	}
}

func TestEchoCase(t *testing.T) {
	rrs := []dns.RR{mustRR("example.com. 1 IN SOA a. b. 1 2 3 4 5"), mustRR("www.example.com. 1 IN A 1.2.3.4"), mustRR("other.net. 1 IN A 1.2.3.4")}
	echoCase(rrs, "WWW.Example.COM.", true)
	want := []string{"Example.COM.", "WWW.Example.COM.", "other.net."}
	for i, rr := range rrs {
		if rr.Header().Name != want[i] {
			t.Errorf("%d: %s, want %s", i, rr.Header().Name, want[i])
		}
	}
	// In the answer section, the target of a CNAME chain keeps its own
	// spelling even when it is a suffix of the question.
	rrs = []dns.RR{mustRR("www.example.com. 1 IN CNAME example.com."), mustRR("example.com. 1 IN A 1.2.3.4")}
	echoCase(rrs, "WWW.Example.COM.", false)
	want = []string{"WWW.Example.COM.", "example.com."}
	for i, rr := range rrs {
		if rr.Header().Name != want[i] {
			t.Errorf("answer %d: %s, want %s", i, rr.Header().Name, want[i])
		}
	}
}

func mustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

// TestCache checks TTLs counting down, NXDOMAIN answering every type,
// expiry and the size bound (least recently used first).
func TestCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newCache(2)
	c.now = func() time.Time { return now }
	c.put(cacheKey{"a.test.", dns.TypeA}, dns.RcodeSuccess, []dns.RR{mustRR("a.test. 300 IN A 1.2.3.4")}, nil, 300)
	c.put(cacheKey{"nx.test.", 0}, dns.RcodeNameError, nil, []dns.RR{mustRR("test. 60 IN SOA a. b. 1 2 3 4 5")}, 60)
	now = now.Add(10 * time.Second)
	if _, ans, _, ok := c.get("A.test.", dns.TypeA, false); !ok || ans[0].Header().Ttl != 290 {
		t.Fatalf("countdown: %v %v", ans, ok)
	}
	if rcode, _, ns, ok := c.get("nx.test.", dns.TypeMX, false); !ok || rcode != dns.RcodeNameError || ns[0].Header().Ttl != 50 {
		t.Fatalf("NXDOMAIN for MX: %v %v %v", rcode, ns, ok)
	}
	c.get("a.test.", dns.TypeA, false) // a.test is now the most recently used
	c.put(cacheKey{"b.test.", dns.TypeA}, dns.RcodeSuccess, []dns.RR{mustRR("b.test. 300 IN A 1.2.3.5")}, nil, 300)
	if _, _, _, ok := c.get("nx.test.", dns.TypeA, false); ok {
		t.Error("the least recently used entry should have been evicted")
	}
	if c.Len() != 2 {
		t.Errorf("len %d", c.Len())
	}
	now = now.Add(300 * time.Second)
	if _, _, _, ok := c.get("a.test.", dns.TypeA, false); ok {
		t.Error("expired entry returned")
	}
	c.SetSize(0)
	if c.Len() != 0 {
		t.Error("SetSize(0) should empty the cache")
	}
}

// TestResolveLocal exercises the resolver without any network.
func TestResolveLocal(t *testing.T) {
	r := fuzzResolver(t)
	ask := func(name string, qtype uint16) answer {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		return r.Resolve(context.Background(), m, false)
	}
	if a := ask("X.A.Test.", dns.TypeA); a.rcode != dns.RcodeSuccess || !a.aa || a.answer[0].Header().Name != "X.A.Test." {
		t.Errorf("address: %+v", a)
	}
	if a := ask("x.a.test.", dns.TypeMX); a.rcode != dns.RcodeRefused {
		t.Errorf("other type without upstream: %+v", a)
	}
	if a := ask("n.test.", dns.TypeTXT); a.rcode != dns.RcodeNameError || a.aa {
		t.Errorf("address=/n.test/: %+v", a)
	}
	if a := ask("c2.test.", dns.TypeA); len(a.answer) != 3 || !a.aa {
		t.Errorf("cname chain: %+v", a)
	}
	if a := ask("plain.", dns.TypeA); a.rcode != dns.RcodeNameError {
		t.Errorf("domain-needed: %+v", a)
	}
	if a := ask("1.1.168.192.in-addr.arpa.", dns.TypePTR); a.rcode != dns.RcodeNameError || !a.aa {
		t.Errorf("bogus-priv: %+v", a)
	}
	if a := ask("superw.test.", dns.TypeA); len(a.answer) != 1 {
		t.Errorf("wildcard: %+v", a)
	}
	if a := ask("1.0.0.10.in-addr.arpa.", dns.TypePTR); len(a.answer) != 1 {
		t.Errorf("ptr-record: %+v", a)
	}
}
