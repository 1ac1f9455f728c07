package integration

import (
	"strings"
	"testing"
)

// TestDnsmasqDiffIgnoreAddress covers ignore-address=: with all-servers, the
// reply of the server that answers with an ignored address (UP1: 10.0.0.1,
// fd00::1) is skipped and the other server's answer is taken; replies to
// other types and other addresses are never ignored. Which server answers
// first is a race, so only questions both servers answer alike are asked
// besides, and how many queries each server received is not compared (with
// all-servers, either side may answer before it sent the query to both).
func TestDnsmasqDiffIgnoreAddress(t *testing.T) {
	conf := `
no-resolv
no-hosts
all-servers
server={UP1}
server={UP2}
ignore-address=10.0.0.1
ignore-address=fd00::1/128
ignore-address=192.168.0.0/16
`
	var confs [2]string
	for i := range confs {
		confs[i] = strings.NewReplacer("{UP1}", startFakeUpstream(t, 1).Dnsmasq(), "{UP2}", startFakeUpstream(t, 2).Dnsmasq()).Replace(conf)
	}
	p := startDNSPair(t, confs[0], confs[1])
	qq := qs("a.test. A", "a.test. AAAA", "A.test. A", "b.test. MX", "x.a.test. A", "x.a.test. AAAA",
		"multi.test. A", "nx.test. A", "nodata.test. A", "chain.test. AAAA")
	n := runDiff(t, p, qq)
	t.Logf("%d/%d differential cases identical", n, len(qq))
}
