package netutil

import (
	"net"
	"testing"
	"time"
)

// TestTCPLimitListenerClose: closing the listener ends an Accept that waits
// for a free slot (a shutdown while at the limit).
func TestTCPLimitListenerClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewLimitListener(ln, func() int { return 1 })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Accept at the limit succeeded")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
	first.Close()
	first.Close() // releases once
	if l.active != 0 {
		t.Fatalf("active = %d", l.active)
	}
}
