package integration

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// Records from this machine's interface addresses: interface-name= and
// dynamic-host=, on loopback and on another interface.

// TestDnsmasqDiffInterfaceName covers interface-name= on the loopback
// interface (127.0.0.1, ::1): both families, /4 and /6, a missing interface,
// its precedence over hosts entries, address= and the reverse of
// host-record, CNAMEs to it, other record types of the same name, and a
// name under local=. (Besides: a host-record with two addresses of a
// family keeps the last one.)
func TestDnsmasqDiffInterfaceName(t *testing.T) {
	conf := `
no-resolv
no-hosts
server={UP1}
local-ttl=7
interface-name=lo4.test,lo/4
interface-name=lo.test,lo
interface-name=lo6.test,lo/6
interface-name=none.test,nonexist0
host-record=lo.test,10.0.0.1
host-record=none.test,10.0.0.3
host-record=other.test,127.0.0.1
txt-record=lo.test,hello
cname=c.test,lo.test
local=/loc.test/
interface-name=a.loc.test,lo
interface-name=n.loc.test,nonexist0
interface-name=v4.loc.test,lo/4
address=/adr.test/9.9.9.9
interface-name=adr.test,lo/4
host-record=two.test,1.1.1.1,::1,2.2.2.2,::2
expand-hosts
domain=dom.test
interface-name=plain,lo
`
	diffScenario(t, conf,
		"lo.test. A", "lo.test. AAAA", "lo.test. ANY", "lo.test. TXT", "lo.test. MX", "LO.Test. A", "x.lo.test. A",
		"lo4.test. A", "lo4.test. AAAA", "lo4.test. ANY", "lo6.test. AAAA", "lo6.test. A",
		"none.test. A", "none.test. AAAA", "other.test. A",
		"1.0.0.127.in-addr.arpa. PTR", "1.0.0.10.in-addr.arpa. PTR", "3.0.0.10.in-addr.arpa. PTR",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR",
		"c.test. A", "c.test. AAAA", "a.loc.test. A", "a.loc.test. MX", "b.loc.test. A", "n.loc.test. A", "v4.loc.test. AAAA",
		"adr.test. A", "adr.test. AAAA", "x.adr.test. A",
		"plain. A", "plain.dom.test. A", "two.test. A", "two.test. AAAA", "1.1.1.1.in-addr.arpa. PTR", "2.2.2.2.in-addr.arpa. PTR",
	)
}

// TestDnsmasqDiffDynamicHost covers dynamic-host= on the loopback interface
// (127.0.0.1/8, ::1/128): the network part comes from the interface, the
// host part from the line; and which line answers a PTR query when
// interface-name and dynamic-host lines share an interface (an
// interface-name line without the address hides the lines right after it
// for the same interface, measured on 2.90).
func TestDnsmasqDiffDynamicHost(t *testing.T) {
	queries := []string{
		"dyn.test. A", "dyn.test. AAAA", "dyn.test. ANY", "dyn2.test. A", "dynlo.test. A", "dynlo.test. AAAA",
		"dyn6.test. A", "dyn6.test. AAAA", "dyn6.test. MX",
		"5.0.0.127.in-addr.arpa. PTR", "6.0.0.127.in-addr.arpa. PTR", "4.3.2.127.in-addr.arpa. PTR",
		"1.0.0.127.in-addr.arpa. PTR", "2.0.0.10.in-addr.arpa. PTR",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR",
	}
	t.Run("dynamic-first", func(t *testing.T) {
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
local-ttl=3
dynamic-host=dyn.test,0.0.0.5,::7,lo
interface-name=lo.test,lo
dynamic-host=dyn2.test,0.0.0.6,lo
dynamic-host=dynlo.test,1.2.3.4,::7,lo
dynamic-host=dyn6.test,::7,lo
host-record=dyn6.test,10.0.0.2
`, queries...)
	})
	t.Run("interface-first", func(t *testing.T) {
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
interface-name=lo.test,lo
interface-name=n.test,nonexist0
dynamic-host=dyn.test,0.0.0.5,lo
dynamic-host=dyn2.test,0.0.0.6,lo
interface-name=lo2.test,lo
dynamic-host=dynlo.test,1.2.3.4,lo
dynamic-host=dyn6.test,::7,lo
`, queries...)
	})
}

// TestDnsmasqDiffInterfaceNameOtherInterface repeats interface-name and
// dynamic-host with a non-loopback interface of this machine that has a
// global IPv4 address and a global and a link-local IPv6 address (skipped
// when there is none): link-local addresses are never answered, and
// dynamic-host takes the network part of a /24 or /64. No traffic goes to
// that interface: only the answers name its addresses.
func TestDnsmasqDiffInterfaceNameOtherInterface(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Skip(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 || i.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := i.Addrs()
		var v4, v6, ll []string
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			switch {
			case ipn.IP.To4() != nil:
				v4 = append(v4, ipn.IP.String())
			case ipn.IP.IsLinkLocalUnicast():
				ll = append(ll, ipn.IP.String())
			default:
				v6 = append(v6, ipn.IP.String())
			}
		}
		if len(v4) == 0 || len(v6) == 0 || len(ll) == 0 {
			continue
		}
		queries := []string{"e.test. A", "e.test. AAAA", "e.test. ANY", "e6.test. AAAA", "e6.test. A", "d.test. A", "d.test. AAAA"}
		for _, a := range append(append(v4, v6...), ll...) {
			r, _ := dns.ReverseAddr(a)
			queries = append(queries, r+" PTR")
		}
		diffScenario(t, `
no-resolv
no-hosts
server={UP1}
interface-name=e.test,`+i.Name+`
interface-name=e6.test,`+i.Name+`/6
dynamic-host=d.test,0.0.0.9,::9,`+i.Name+`
`, queries...)
		return
	}
	t.Skip("no interface with global IPv4, global IPv6 and link-local IPv6 addresses")
}
