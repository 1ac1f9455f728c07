package dnsmasq

import (
	"strings"
	"testing"
)

func TestConfScript(t *testing.T) {
	c, err := parse(t, `conf-script=echo address=/a.test/1.2.3.4; echo 'conf-script=echo port=5353'`, "conf-script=")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 1 || c.Rules[0].Domain != "a.test" || c.Port != 5353 {
		t.Errorf("script output not read: %+v port %d", c.Rules, c.Port)
	}
	for line, want := range map[string]string{
		"conf-script=exit 3":                          "exit 3 returns non-zero error code 3 at line 1 of test.conf",
		"conf-script=echo; echo address=/x/1.2.3.4.5": "at line 2 of output from echo; echo address=/x/1.2.3.4.5",
	} {
		if _, err := parse(t, line); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", line, err, want)
		}
	}
}

func TestControlPlaneAndPortZero(t *testing.T) {
	c, err := parse(t, "enable-dbus", "enable-ubus=my.name", "port=0", "localise-queries", "dumpfile=/tmp/x.pcap", "dumpmask=0x3")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ControlPlane) != 2 || c.ControlPlane[1].Line != 2 || c.Port != 0 || !c.Localise || c.DumpFile != "/tmp/x.pcap" || c.DumpMask != 3 {
		t.Errorf("got %+v", c)
	}
	for _, bad := range []string{"localise-queries=x", "dumpmask=xx", "dumpfile="} {
		if _, err := parse(t, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
