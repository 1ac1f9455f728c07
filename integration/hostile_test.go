package integration

// The hostile-input suite: what a module promises must hold whatever a client,
// a backend or a failing storage does. Every test is named TestHostile* and
// lives in a file hostile_<area>_test.go:
//
//	hostile_headers_test.go   forwarding-header spoofing (duplicates, case, obs-fold,
//	                          Connection nominations, Forwarded syntax)
//	hostile_smuggling_test.go request smuggling forms against a raw-socket backend
//	hostile_cache_test.go     cache poisoning and deception, key confusion
//	hostile_storage_test.go   storage faults: Redis killed, disk read-only or full
//	hostile_dns_test.go       malformed, truncated and looping DNS packets, huge EDNS,
//	                          TCP stalls
//
// Each case states what must hold and fails when it does not; none only prints.
//
// CI runs the bounded form (`make test`). The long form generates more
// inputs per case:
//
//	FRONTDESK_HOSTILE_ROUNDS=2000 go test -count=1 -run 'TestHostile' ./integration/

import (
	"os"
	"strconv"
	"testing"
)

// hostileRoundsEnv scales the generated cases of the hostile-input suite.
const hostileRoundsEnv = "FRONTDESK_HOSTILE_ROUNDS"

// hostileRounds is how many generated inputs a hostile test sends: ciDefault
// unless FRONTDESK_HOSTILE_ROUNDS says otherwise.
func hostileRounds(t *testing.T, ciDefault int) int {
	t.Helper()
	s := os.Getenv(hostileRoundsEnv)
	if s == "" {
		return ciDefault
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", hostileRoundsEnv, s)
	}
	return n
}
