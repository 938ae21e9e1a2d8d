package schema

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

func encodeColumnAs(t *testing.T, attr string, dt arrow.DataType, vals string) []string {
	t.Helper()
	return encodeColumn(t, dt, vals, Config{Attributes: map[string]string{"v": attr}})
}

func TestStandardFields(t *testing.T) {
	cases := []struct {
		attr string
		dt   arrow.DataType
		vals string
		want []string
	}{
		{"email", str, `["ann@example.com", "a.b+c@sub.example.co.uk", "nope", "a@b", " ann@example.com", "a@@b.com", "a@b..com", "@b.com", "a@.com", "a b@c.com"]`,
			[]string{`,"email":"ann@example.com"`, `,"email":"a.b+c@sub.example.co.uk"`,
				"!" + reasonEmail, "!" + reasonEmail, "!" + reasonEmail, "!" + reasonEmail, "!" + reasonEmail, "!" + reasonEmail, "!" + reasonEmail, "!" + reasonEmail}},
		{"gender", str, `["M", "f", "Female", "MALE", "other", "Non-Binary", "n/a", "Prefer not to say", "p", "x", "", null]`,
			[]string{`,"gender":"M"`, `,"gender":"F"`, `,"gender":"F"`, `,"gender":"M"`, `,"gender":"O"`, `,"gender":"O"`,
				`,"gender":"N"`, `,"gender":"P"`, `,"gender":"P"`, "!" + reasonGender, "!" + reasonGender, ``}},
		{"email_subscribe", str, `["opted_in", "Subscribed", "UNSUBSCRIBED", "yes", "opted-in"]`,
			[]string{`,"email_subscribe":"opted_in"`, `,"email_subscribe":"subscribed"`, `,"email_subscribe":"unsubscribed"`, "!" + reasonSubscribe, "!" + reasonSubscribe}},
		{"push_subscribe", arrow.FixedWidthTypes.Boolean, `[true, false]`,
			[]string{`,"push_subscribe":"subscribed"`, `,"push_subscribe":"unsubscribed"`}},
		{"dob", arrow.FixedWidthTypes.Date32, `["1980-12-21", "3001-01-01"]`, []string{`,"dob":"1980-12-21"`, "!" + reasonDOB}},
		{"dob", arrow.FixedWidthTypes.Date64, `["2000-02-29"]`, []string{`,"dob":"2000-02-29"`}},
		{"dob", arrow.FixedWidthTypes.Timestamp_us, `["1980-12-21T23:59:59.5Z", "1969-12-31T00:00:01Z"]`, []string{`,"dob":"1980-12-21"`, `,"dob":"1969-12-31"`}},
		{"dob", str, `["1980-12-21", "1980-02-30", "21/12/1980", "1980-1-2", "3001-01-01", "abcd-ef-gh"]`,
			[]string{`,"dob":"1980-12-21"`, "!" + reasonDOB, "!" + reasonDOB, "!" + reasonDOB, "!" + reasonDOB, "!" + reasonDOB}},
		{"time_zone", str, `["America/New_York", "UTC", "Mars/Olympus", "", "Local", "America/New_York"]`,
			[]string{`,"time_zone":"America/New_York"`, `,"time_zone":"UTC"`, "!" + reasonTimeZone, "!" + reasonTimeZone, "!" + reasonTimeZone, `,"time_zone":"America/New_York"`}},
		{"first_name", str, `["Ann", "` + strings.Repeat("x", 256) + `"]`, []string{`,"first_name":"Ann"`, "!" + reasonTooLong}},
		{"country", str, `["Australia"]`, []string{`,"country":"Australia"`}},
		{"email_open_tracking_disabled", arrow.FixedWidthTypes.Boolean, `[true]`, []string{`,"email_open_tracking_disabled":true`}},
		{"date_of_first_session", arrow.FixedWidthTypes.Timestamp_s, `["2024-01-02T03:04:05Z"]`, []string{`,"date_of_first_session":"2024-01-02T03:04:05Z"`}},
		{"current_location", arrow.StructOf(arrow.Field{Name: "longitude", Type: arrow.PrimitiveTypes.Float64}, arrow.Field{Name: "latitude", Type: arrow.PrimitiveTypes.Float64}),
			`[{"longitude":-73.99,"latitude":40.75}]`, []string{`,"current_location":{"longitude":-73.99,"latitude":40.75}`}},
		{"First_Name", arrow.PrimitiveTypes.Int64, `[1]`, []string{`,"First_Name":1`}}, // case-sensitive: custom attribute
	}
	for _, tc := range cases {
		t.Run(tc.attr+"/"+tc.dt.String(), func(t *testing.T) {
			got := encodeColumnAs(t, tc.attr, tc.dt, tc.vals)
			for i := range got {
				got[i] = strings.Replace(got[i], `,"v":`, `,"`+tc.attr+`":`, 1)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestStandardFieldTypes(t *testing.T) {
	cases := []struct {
		attr string
		dt   arrow.DataType
		want string
	}{
		{"first_name", arrow.PrimitiveTypes.Int64, "standard field needs a string column"},
		{"email", arrow.PrimitiveTypes.Int64, "standard field needs a string column"},
		{"dob", arrow.PrimitiveTypes.Int64, "dob needs a date, timestamp or string column"},
		{"email_subscribe", arrow.PrimitiveTypes.Int64, "subscription state needs a string or bool column"},
		{"email_open_tracking_disabled", str, "boolean field needs a bool column"},
		{"date_of_last_session", arrow.PrimitiveTypes.Int64, "date field needs a date, timestamp or string column"},
	}
	for _, tc := range cases {
		sc := arrow.NewSchema([]arrow.Field{field("id", str, "braze_id"), field("C", tc.dt)}, nil)
		_, err := NewMapping(sc, Config{Attributes: map[string]string{"C": tc.attr}})
		if err == nil || !strings.Contains(err.Error(), `column "C" (attribute "`+tc.attr+`")`) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s/%s: err = %v", tc.attr, tc.dt, err)
		}
	}
}
