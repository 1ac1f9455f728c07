package dnsmasq

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestLogDebug: with log-debug, each answer gives a zap debug entry; without
// it, none (even when the logger is at debug level).
func TestLogDebug(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := benchResolver(t)
		core, logs := observer.New(zapcore.DebugLevel)
		r.log = zap.New(core)
		if on {
			r.cfg.LogDebug = true
			r.debug = r.log
		}
		req := new(dns.Msg)
		req.SetQuestion("bench.local.", dns.TypeA)
		if m := r.Answer(req, nil, true, netip.Addr{}); m == nil || len(m.Answer) != 1 {
			t.Fatalf("answer: %v", m)
		}
		n := logs.FilterMessage("answer").Len()
		if on && n != 1 || !on && n != 0 {
			t.Errorf("log-debug=%v: %d debug entries, want %d", on, n, map[bool]int{true: 1}[on])
		}
	}
	c, err := ParseLines([]Line{{Text: "log-debug"}})
	if err != nil || !c.LogDebug {
		t.Fatalf("log-debug: %v %v", c, err)
	}
	if _, err := ParseLines([]Line{{Text: "log-debug=1"}}); err == nil {
		t.Error("log-debug=1 accepted")
	}
}
