package integration

import "testing"

// TestDnsmasqDiffUseStaleCache covers use-stale-cache: an expired cached
// answer is still given (TTL 0) and refreshed from upstream after it, so the
// next question gets the new one; with =n, not when it expired more than n
// seconds ago. (dnsmasq counts expiry in whole seconds: the sleeps keep well
// away from the boundaries.)
func TestDnsmasqDiffUseStaleCache(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nuse-stale-cache\nneg-ttl=1\n",
			"short.s.test. A", "nosoa.s.test. A", "short.s.test. A sleep3500ms", "nosoa.s.test. A", "short.s.test. A sleep300ms",
			"nosoa.s.test. A", "short.s.test. AAAA", "short.s.test. MX",
		)
	})
	t.Run("max-excess", func(t *testing.T) {
		diffScenario(t, "no-resolv\nno-hosts\nserver={UP1}\nuse-stale-cache=3\n",
			"short.u.test. A", "short.v.test. A", "short.v.test. A sleep3500ms", "short.v.test. A sleep300ms",
			"short.u.test. A sleep4000ms", "short.u.test. A",
		)
	})
}
