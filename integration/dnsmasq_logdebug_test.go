package integration

import "testing"

// TestDnsmasqDiffLogDebug: log-debug only adds (zap debug) log entries; the
// answers are those of dnsmasq with the same option.
func TestDnsmasqDiffLogDebug(t *testing.T) {
	diffScenario(t, "no-resolv\nno-hosts\nlog-debug\nlog-queries\nserver={UP1}\naddress=/a.test/1.2.3.4\n",
		"a.test. A", "x.a.test. AAAA", "b.test. A", "b.test. A", "nx.b.test. MX", "servfail.b.test. A")
}
