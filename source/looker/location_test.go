package looker

import (
	"testing"
	"time"
)

// TestLocationRule: the result's timezone first, then the spec's query_timezone, then UTC.
func TestLocationRule(t *testing.T) {
	q := &SpecQuery{Model: "m", View: "v", Fields: []string{"f"}, QueryTimezone: "Asia/Tokyo"}
	cases := []struct {
		ts     TableSpec
		result string
		want   string
	}{
		{TableSpec{Query: q}, "America/New_York", "America/New_York"},
		{TableSpec{Query: q}, "", "Asia/Tokyo"},
		{TableSpec{LookID: 1}, "", "UTC"},
		{TableSpec{Query: &SpecQuery{}}, "", "UTC"},
	}
	for _, tc := range cases {
		loc, err := tc.ts.location(&Header{Timezone: tc.result})
		if err != nil || loc.String() != tc.want {
			t.Errorf("result %q, spec %+v: %v %v, want %s", tc.result, tc.ts.Query, loc, err, tc.want)
		}
	}
	bad := TableSpec{Query: &SpecQuery{QueryTimezone: "Mars/Olympus"}}
	if _, err := bad.location(&Header{}); err == nil {
		t.Error("an unknown query_timezone is accepted")
	}
	_ = time.UTC
}
