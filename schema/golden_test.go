package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// wideSchema has one column of every supported kind, tagged the way sources
// deliver them, plus ignored columns.
func wideSchema() *arrow.Schema {
	tag := func(name string, dt arrow.DataType, attr string) arrow.Field {
		return field(name, dt, "braze["+attr+"]")
	}
	return arrow.NewSchema([]arrow.Field{
		field("USER_ID", str, "braze_id"),
		field("_cq_sync_time", arrow.FixedWidthTypes.Timestamp_us),
		tag("FIRST_NAME", str, "first_name"),
		tag("EMAIL", str, "email"),
		tag("GENDER", str, "gender"),
		tag("DOB", arrow.FixedWidthTypes.Date32, "dob"),
		tag("SUB", str, "email_subscribe"),
		tag("TZ", str, "time_zone"),
		tag("VIP", arrow.FixedWidthTypes.Boolean, "vip"),
		tag("I8", arrow.PrimitiveTypes.Int8, "i8"),
		tag("U64", arrow.PrimitiveTypes.Uint64, "u64"),
		tag("F32", arrow.PrimitiveTypes.Float32, "f32"),
		tag("LTV", arrow.PrimitiveTypes.Float64, "ltv"),
		tag("AMOUNT", &arrow.Decimal128Type{Precision: 18, Scale: 2}, "amount"),
		tag("BIG", &arrow.Decimal256Type{Precision: 60, Scale: 0}, "big"),
		tag("SIGNUP", arrow.FixedWidthTypes.Date64, "signup"),
		tag("LAST_SEEN", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Europe/Paris"}, "last_seen"),
		tag("OPENS_AT", arrow.FixedWidthTypes.Time32s, "opens_at"),
		tag("TAGS", arrow.ListOf(str), "tags"),
		tag("SCORES", arrow.LargeListOf(arrow.PrimitiveTypes.Int32), "scores"),
		tag("PET", arrow.StructOf(
			arrow.Field{Name: "name", Type: str, Nullable: true},
			arrow.Field{Name: "born", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		), "pet"),
		tag("PREFS", arrow.MapOf(str, str), "prefs"),
		tag("DEVICE", types.NewUUIDType(), "device"),
		tag("EXTRA", types.NewJSONType(), "extra"),
		field("braze[plan]", str),
		field("UNMAPPED", arrow.BinaryTypes.Binary),
	}, nil)
}

const wideRows = `[
{"USER_ID":"u-001","_cq_sync_time":"2024-05-01T00:00:00Z","FIRST_NAME":"Ann \"Nan\" Lee","EMAIL":"ann@example.com","GENDER":"female","DOB":"1980-12-21","SUB":"Opted_In","TZ":"Europe/Paris","VIP":true,"I8":-5,"U64":"18446744073709551615","F32":0.1,"LTV":12.5,"AMOUNT":"1234.50","BIG":"123456789012345678901234567890","SIGNUP":"2023-03-04","LAST_SEEN":"2024-05-01T12:30:45.123456789Z","OPENS_AT":"09:30:00","TAGS":["vip","beta","vip"],"SCORES":[3,1,3],"PET":{"name":"Rex","born":"2020-05-06"},"PREFS":[{"key":"lang","value":"fr"},{"key":"theme","value":null}],"DEVICE":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","EXTRA":{"source":"crm","n":[1,2]},"braze[plan]":"pro","UNMAPPED":"AAEC"},
{"USER_ID":"u-002","FIRST_NAME":"Бо","EMAIL":null,"GENDER":null,"DOB":null,"SUB":null,"TZ":null,"VIP":false,"I8":null,"U64":null,"F32":null,"LTV":-0.000001,"AMOUNT":"-0.05","BIG":"-1","SIGNUP":null,"LAST_SEEN":"1969-12-31T23:59:59Z","OPENS_AT":null,"TAGS":[],"SCORES":null,"PET":{"name":null,"born":null},"PREFS":[],"DEVICE":null,"EXTRA":null,"braze[plan]":null},
{"USER_ID":null,"FIRST_NAME":"nobody"},
{"USER_ID":"   ","FIRST_NAME":"blank"},
{"USER_ID":"u-005","EMAIL":"broken@","FIRST_NAME":"Eve"},
{"USER_ID":"u-006","GENDER":"robot"},
{"USER_ID":"u-007","PREFS":[{"key":"a.b","value":"x"}]}
]`

// TestGoldenWide pins the exact bytes produced for a wide record, in both
// null modes. Run with -update to rewrite testdata/*.golden.
func TestGoldenWide(t *testing.T) {
	sc := wideSchema()
	rec := recordFromJSON(t, sc, wideRows)
	for _, nulls := range []string{NullsSkip, NullsUnset} {
		t.Run(nulls, func(t *testing.T) {
			m := mustMapping(t, sc, Config{Nulls: nulls})
			var buf bytes.Buffer
			for i, o := range encodeAll(t, m, rec) {
				switch {
				case o.Skip != "":
					fmt.Fprintf(&buf, "row %d: skip %s\n", i, o.Skip)
				case o.Reject != "":
					fmt.Fprintf(&buf, "row %d: reject %s\n", i, o.Reject)
				default:
					obj := "{" + o.JSON + "}"
					if !json.Valid([]byte(obj)) {
						t.Fatalf("row %d: invalid JSON %s", i, obj)
					}
					fmt.Fprintf(&buf, "%s\n", obj)
				}
			}
			path := filepath.Join("testdata", "wide_"+nulls+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create): %v", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, buf.Bytes(), want)
			}
		})
	}
}
