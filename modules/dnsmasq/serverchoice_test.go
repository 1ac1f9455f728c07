package dnsmasq

import (
	"testing"
	"time"

	"github.com/frontdesk-proxy/frontdesk/modules/dnsmasq/internal/conf"
)

func TestServerChoiceCadence(t *testing.T) {
	servers := []conf.Upstream{{Addr: "127.0.0.1:1"}, {Addr: "127.0.0.1:2"}, {Addr: "127.0.0.1:2"}}
	f := &forwarder{}
	c := f.choiceOf(servers)
	if f.choiceOf(servers) != c {
		t.Fatal("a group's choice is made twice")
	}
	now := time.Unix(1000, 0)
	if all, _ := c.next(now); !all {
		t.Fatal("the first query of a group does not go to every server")
	}
	// The reply of the third server names the first with its address.
	c.answered(servers, servers[2], false)
	for i := 0; i <= forwardTest; i++ {
		if all, start := c.next(now); all || start != 1 {
			t.Fatalf("query %d after the answer: all=%v start=%d, want the server that answered (1)", i+1, all, start)
		}
	}
	if all, _ := c.next(now); !all {
		t.Fatalf("query %d after all were asked does not go to every server", forwardTest+2)
	}
	c.answered(servers, servers[0], false)
	if all, _ := c.next(now.Add(forwardTime)); all {
		t.Fatal("asked every server again before FORWARD_TIME passed")
	}
	if all, _ := c.next(now.Add(forwardTime + time.Second)); !all {
		t.Fatal("FORWARD_TIME passed and not every server is asked")
	}
	c.answered(servers, servers[1], false)
	c.answered(servers, servers[0], true) // REFUSED from another: the choice stays
	if all, start := c.next(now.Add(forwardTime + time.Second)); all || start != 1 {
		t.Fatalf("after another server's REFUSED: all=%v start=%d, want 1", all, start)
	}
	c.answered(servers, servers[1], true) // REFUSED from the chosen one
	if all, _ := c.next(now.Add(forwardTime + time.Second)); !all {
		t.Fatal("the chosen server REFUSED and not every server is asked next")
	}
}
