package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestDnsmasqAdminAPI adds and removes a live record, reads the counters,
// flushes the cache, and finds the Prometheus metrics on /metrics.
func TestDnsmasqAdminAPI(t *testing.T) {
	up := startFakeUpstream(t, 1)
	srv := startDNSLines(t, "no-resolv", "no-hosts", "log-queries", "server="+up.Dnsmasq(), "address=/myapp.local/127.0.0.1")
	fd, addr, admin := srv.fd, srv.addr, srv.admin
	const base = "/dnsmasq"

	code, body := admin.do(t, "POST", base+"/records", `{"records": ["live.test. 60 IN A 10.9.8.7", "live.test. 60 IN TXT \"hi\""]}`)
	if code != 200 {
		t.Fatalf("POST records: %d %s", code, body)
	}
	r := query(t, addr, "Live.Test.", dns.TypeA)
	if len(r.Answer) != 1 || r.Answer[0].String() != "Live.Test.\t60\tIN\tA\t10.9.8.7" || !r.Authoritative {
		t.Fatalf("live record: %v", r)
	}
	if code, body = admin.do(t, "GET", base+"/records", ""); code != 200 || !strings.Contains(body, "10.9.8.7") {
		t.Fatalf("GET records: %d %s", code, body)
	}
	if code, body = admin.do(t, "DELETE", base+"/records", `{"records": ["live.test. 0 IN A 10.9.8.7"]}`); code != 200 || !strings.Contains(body, `"removed":1`) {
		t.Fatalf("DELETE records: %d %s", code, body)
	}
	if r := query(t, addr, "live.test.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeA || strings.Contains(r.Answer[0].String(), "10.9.8.7") {
		t.Fatalf("after delete the name should be forwarded: %v", r)
	}
	if code, body = admin.do(t, "POST", base+"/records", `{"records": ["not a record"]}`); code != 400 {
		t.Fatalf("bad record: %d %s", code, body)
	}

	query(t, addr, "cached.test.", dns.TypeA)
	query(t, addr, "cached.test.", dns.TypeA)
	query(t, addr, "myapp.local.", dns.TypeA)
	code, body = admin.do(t, "GET", base+"/stats", "")
	var st map[string]int
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("stats: %d %s %v", code, body, err)
	}
	if st["cached"] < 1 || st["forwarded"] < 2 || st["local"] < 2 || st["cache_entries"] < 1 {
		t.Errorf("stats: %s", body)
	}
	if code, body = admin.do(t, "POST", base+"/cache/flush", ""); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	before := up.queries.Load()
	query(t, addr, "cached.test.", dns.TypeA)
	if up.queries.Load() != before+1 {
		t.Errorf("after a flush the name should be forwarded again")
	}

	// log-queries: one zap line per query.
	if log := fd.Log(); !strings.Contains(log, `"msg":"query"`) || !strings.Contains(log, `"name":"myapp.local."`) {
		t.Errorf("log-queries: no query line in the log")
	}

	metrics := admin.get(t, "/metrics")
	for _, want := range []string{`frontdesk_dnsmasq_queries_total{rcode="NOERROR",source="local",type="A"}`, `frontdesk_dnsmasq_cache_lookups_total{result="hit"}`, "frontdesk_dnsmasq_upstream_duration_seconds_bucket"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
