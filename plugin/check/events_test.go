package check_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/check"
)

// TestEventTableLine: an events table gets one line saying where each member comes from, and a
// broken one fails that line naming the problem.
func TestEventTableLine(t *testing.T) {
	w := newWorld(t)
	csv := writeCSV(t, "user_id,event,at,plan")
	dest := fmt.Sprintf(destinationDoc, goodKey, w.brazeURL)
	good := fileSource(csv, `        tags: {user_id: [braze_id], event: [braze_event], plan: ["braze[plan]"]}`) + dest
	res := run(t, good, "")
	l, ok := res.Find("files/users -> braze: events")
	if !ok {
		t.Fatalf("no events line: %+v", res.Lines)
	}
	for _, want := range []string{"external_id <- user_id (tag)", "name <- event (tag)", "properties.plan <- plan (tag)", "no time column"} {
		if !strings.Contains(l.Detail, want) {
			t.Errorf("events line %q lacks %q", l.Detail, want)
		}
	}
	if l.Status != check.Warn {
		t.Errorf("status %s, want a warning for the missing time column", l.Status)
	}

	broken := fileSource(csv, `        tags: {user_id: [braze_id], event: [braze_event], plan: ["braze[time]"]}`) + dest
	res = run(t, broken, "")
	l, ok = res.Find("files/users -> braze: events")
	if !ok || l.Status != check.Fail || !strings.Contains(l.Detail, `property name "time" is reserved`) {
		t.Errorf("broken events line: %+v", l)
	}
}
