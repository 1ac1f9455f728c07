package conf

import "strings"

// ignoredPrefixes name the DHCP, TFTP and router-advertisement options:
// lines with them in an imported file are skipped with one warning.
var ignoredPrefixes = []string{"dhcp-", "tftp-", "pxe-", "ra-"}

// ignoredOptions are the other DHCP/TFTP/RA options.
var ignoredOptions = map[string]bool{
	"enable-ra": true, "enable-tftp": true, "bootp-dynamic": true, "bridge-interface": true,
	"leasefile-ro": true, "read-ethers": true, "script-arp": true, "script-on-renewal": true,
	"quiet-dhcp": true, "quiet-dhcp6": true, "quiet-ra": true, "quiet-tftp": true, "log-dhcp": true,
	"no-dhcp-interface": true, "no-dhcpv4-interface": true, "no-dhcpv6-interface": true,
	"shared-network": true, "no-ping": true, "dhcp": true, "tag-if": true, "script-user": true,
}

// isIgnored reports whether option is a DHCP, TFTP or RA option.
func isIgnored(option string) bool {
	if ignoredOptions[option] {
		return true
	}
	for _, p := range ignoredPrefixes {
		if strings.HasPrefix(option, p) {
			return true
		}
	}
	return false
}

// notYet are dnsmasq DNS options that Frontdesk does not implement yet: they
// fail clearly instead of being silently ignored.
var notYet = map[string]bool{}
