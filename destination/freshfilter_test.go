package destination

import (
	"fmt"
	"testing"
)

// TestFreshFilterNeverForgets: every user added is reported (a miss would skip the lookup of a
// user the run committed), users never added are mostly reported absent, and a full filter says so.
func TestFreshFilterNeverForgets(t *testing.T) {
	f := newFreshFilter()
	const n = 200_000
	for i := range n {
		f.add(keyOf(fmt.Sprint("in-", i)).hash)
	}
	for i := range n {
		if !f.mayHave(keyOf(fmt.Sprint("in-", i)).hash) {
			t.Fatalf("user %d was added but is reported absent", i)
		}
	}
	falsePos := 0
	for i := range n {
		if f.mayHave(keyOf(fmt.Sprint("out-", i)).hash) {
			falsePos++
		}
	}
	if rate := float64(falsePos) / n; rate > 0.01 {
		t.Errorf("false positives %.3f%% of users never added, want well under 1%% at a tenth of capacity", 100*rate)
	}
	if f.full() {
		t.Fatal("full after a tenth of its capacity")
	}
	for i := n; i < freshFilterUsers; i++ {
		f.add(keyOf(fmt.Sprint("in-", i)).hash)
	}
	if !f.full() {
		t.Fatal("not full at capacity")
	}
	falsePos = 0
	for i := range n {
		if f.mayHave(keyOf(fmt.Sprint("out-", i)).hash) {
			falsePos++
		}
	}
	// The doc comment promises about 3% at capacity (2.7% measured).
	if rate := float64(falsePos) / n; rate > 0.04 {
		t.Errorf("false positives at capacity %.2f%%, want about 3%%", 100*rate)
	} else {
		t.Logf("false positives at capacity: %.2f%%", 100*rate)
	}
}
