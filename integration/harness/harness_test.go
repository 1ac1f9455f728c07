package harness

import "testing"

// TestFreePortNeverRepeats asks for as many ports as a whole integration
// run does, and more: none twice, and no error (the kernel's habit of
// giving the port just closed again once made a late test find none).
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 3000; i++ {
		p, err := FreePort()
		if err != nil {
			t.Fatalf("port %d: %v", i+1, err)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}

func TestFreePortRunIsFreeAndFresh(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 50; i++ {
		p, err := FreePortRun(6)
		if err != nil {
			t.Fatal(err)
		}
		for j := p; j <= p+6; j++ {
			if seen[j] {
				t.Fatalf("port %d handed out twice", j)
			}
			seen[j] = true
		}
		if q, err := FreePort(); err == nil && q >= p && q <= p+6 {
			t.Fatalf("FreePort gave %d, inside the run %d-%d", q, p, p+6)
		}
	}
}
