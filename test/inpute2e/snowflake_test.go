package inpute2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestSnowflakeObjectNullMembers: OBJECT and ARRAY values holding JSON nulls (as
// OBJECT_CONSTRUCT_KEEP_NULL makes them) land in Braze with their other members; the nulls are
// left out, since an object replaces the stored one, and the report counts them. No row is
// refused for a null.
func TestSnowflakeObjectNullMembers(t *testing.T) {
	const rows = 5000
	sf := emutest.Snowflake(t, snowflakeemu.Options{Password: sfPassword, Now: snowflakeemu.SeedClock})
	ctx := context.Background()
	cols := []snowflakeemu.ColumnDef{{Name: "ID", Type: "NUMBER(38,0)"}, {Name: "PREFS", Type: "OBJECT"}, {Name: "TAGS", Type: "ARRAY"}}
	if err := sf.Catalog().CreateTable(ctx, "PROFILES", cols); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{}
	var nulls int64
	var data [][]any
	for i := 0; i < rows; i++ {
		prefs := map[string]any{"email": i%2 == 0, "push": nil, "deep": map[string]any{"x": nil, "y": i}}
		if i%3 == 0 {
			prefs["push"] = "daily"
		}
		tags := []any{"a", nil, fmt.Sprint("t", i%10)}
		pj, _ := json.Marshal(prefs)
		tj, _ := json.Marshal(tags)
		data = append(data, []any{int64(i), string(pj), string(tj)})
		src := map[string]any{}
		for _, v := range []struct {
			attr string
			raw  []byte
		}{{"prefs", pj}, {"tags", tj}} {
			var x any
			_ = json.Unmarshal(v.raw, &x)
			src[v.attr] = x
			nulls += nestedNulls(x)
		}
		want[fmt.Sprint("sf_", i)] = src
	}
	if err := sf.Catalog().Insert(ctx, "PROFILES", data); err != nil {
		t.Fatal(err)
	}
	braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{brazeKey}, RateLimit: -1})
	host, port := sf.HostPort()
	spec := testbin.Spec(snowflakeSource(host, port, sfPassword,
		`SELECT 'sf_' || ID AS EXTERNAL_ID, PREFS AS "braze[prefs]", TAGS AS "braze[tags]" FROM PROFILES`),
		testbin.BrazeDestination("SF", "rate_limit: -1"))
	res := testbin.Sync(t, spec, testbin.SyncOptions{Env: map[string]string{"BRAZE_API_KEY": brazeKey, "BRAZE_ENDPOINT": braze.URL()}})
	if res.Code != 0 {
		t.Fatalf("exit %d\n%s", res.Code, testbin.Tail(res.Stderr, 4000))
	}
	rep := res.Report
	if rep.RowsRead != rows || rep.UsersSent != rows || rep.Rejected() != 0 || !rep.Balanced() {
		t.Fatalf("read %d sent %d rejected %v: every row must land", rep.RowsRead, rep.UsersSent, rep.RowsRejected)
	}
	if rep.NestedNullsDropped != nulls {
		t.Errorf("report counts %d nested nulls dropped, the rows held %d", rep.NestedNullsDropped, nulls)
	}
	for key, attrs := range want {
		p, ok := braze.Profile(key)
		if !ok {
			t.Fatalf("%s is not in Braze", key)
		}
		for attr, v := range attrs {
			if !sameJSON(decodeNumbers(v), p.Custom[attr]) {
				t.Fatalf("%s %s: Braze holds %#v, the warehouse %#v", key, attr, p.Custom[attr], v)
			}
		}
	}
}

// decodeNumbers turns float64s decoded by encoding/json into json.Numbers, as the oracle compares.
func decodeNumbers(v any) any {
	b, _ := json.Marshal(v)
	var out any
	dec := json.NewDecoder(bytesReader(b))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}
