package dnssec

import (
	"os"
	"time"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

// timeChecks reports whether signature validity periods are checked now:
// not with dnssec-no-timecheck, nor with dnssec-timestamp while the clock is
// before the file's modification time. With dnssec-timestamp, a missing
// file is created and a file in the past is moved to now, as dnsmasq does,
// so that a later start with a clock gone backwards does not trust it.
func timeChecks(d *conf.DNSSECConfig, now time.Time) bool {
	if d.NoTimecheck {
		return false
	}
	if d.Timestamp == "" {
		return true
	}
	st, err := os.Stat(d.Timestamp)
	if err != nil {
		if f, err := os.Create(d.Timestamp); err == nil {
			f.Close()
		}
		return true
	}
	if now.Before(st.ModTime()) {
		return false
	}
	_ = os.Chtimes(d.Timestamp, now, now)
	return true
}
