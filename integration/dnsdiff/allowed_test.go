package dnsdiff

import "testing"

func TestSmallCacheEvictionMatches(t *testing.T) {
	match := func(config []string, sig string) bool {
		for _, a := range AllowedDifferences {
			if a.Name == "small-cache-eviction" {
				return a.Match(&Case{Config: config}, sig)
			}
		}
		t.Fatal("no small-cache-eviction entry")
		return false
	}
	for _, c := range []struct {
		config []string
		sig    string
		want   bool
	}{
		{[]string{"cache-size=10"}, "upstream more", true},
		{[]string{"cache-size=10"}, "authority [SOA]/[]; upstream fewer", true},
		{[]string{"cache-size=150"}, "upstream more", false},
		{[]string{"server=/x/1.2.3.4"}, "upstream more", false},
		{[]string{"cache-size=10"}, "rcode NOERROR/NXDOMAIN", false},
		{[]string{"cache-size=10", "filter-AAAA"}, "opt opt(udp=1232 do=true ext-rcode=0 version=0 codes=15.17)/opt(udp=1232 do=true ext-rcode=0 version=0 codes=)", false}, // only by a run (EvictionOnly)
	} {
		if got := match(c.config, c.sig); got != c.want {
			t.Errorf("%q with %q: allowed %v, want %v", c.config, c.sig, got, c.want)
		}
	}
}

func TestOneSecondBoundaryNeedsAnUpstreamDifference(t *testing.T) {
	var entry *Allowed
	for i := range AllowedDifferences {
		if AllowedDifferences[i].Name == "one-second-ttl-boundary" {
			entry = &AllowedDifferences[i]
		}
	}
	c := &Case{Zone: []string{"a.test. 1 IN A 10.0.0.1"}}
	if !entry.Match(c, "answer ttl; upstream fewer") {
		t.Error("a TTL-1 zone, one side asked again: not allowed")
	}
	if entry.Match(c, "answer ttl") {
		t.Error("a TTL difference alone counts as a second boundary")
	}
	if entry.Match(&Case{Zone: []string{"a.test. 5 IN A 10.0.0.1"}}, "answer ttl; upstream fewer") {
		t.Error("allowed without a TTL of a second in the zone")
	}
}

func TestBoundaryCandidates(t *testing.T) {
	short := &Case{Zone: []string{"a.test. 1 IN A 10.0.0.1"}}
	for _, tc := range []struct {
		c    *Case
		sig  string
		want bool
	}{
		{short, "authority []/[SOA]; upstream more", true},
		{short, "opt x/y; upstream fewer", true},
		{short, "authority []/[SOA]", false},  // both asked upstream as often: no boundary
		{short, "additional []/[AAAA]", true}, // cached addresses expire without a question upstream
		{&Case{Zone: []string{"a.test. 5 IN A 10.0.0.1"}}, "authority []/[SOA]; upstream more", false},
	} {
		if got := boundaryCandidate(tc.c, tc.sig); got != tc.want {
			t.Errorf("boundaryCandidate(%q, %q) = %v, want %v", tc.c.Zone, tc.sig, got, tc.want)
		}
	}
}

func TestCachedNameCaseOnlyCase(t *testing.T) {
	e := allowedByName(AllowedDifferences, "cached-name-case")
	if !e.Match(nil, "answer case [A,CNAME]") {
		t.Error("a case-only answer difference is not allowed")
	}
	for _, sig := range []string{"answer records [A,CNAME]", "answer case [CNAME]; upstream more", "flags [aa]/[]"} {
		if e.Match(nil, sig) {
			t.Errorf("%q allowed as a case difference", sig)
		}
	}
	if !caseOnly([]string{"a.test.\t0\tIN\tCNAME\tB.test."}, []string{"a.test.\t0\tIN\tCNAME\tb.TEST."}) ||
		caseOnly([]string{"a.test.\t0\tIN\tA\t10.0.0.1"}, []string{"a.test.\t0\tIN\tA\t10.0.0.2"}) {
		t.Error("caseOnly")
	}
}
