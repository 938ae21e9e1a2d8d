package lookeremu

import (
	"fmt"
	"strings"
)

// Seeded Look ids.
const (
	LookScenario   = 1 // test_braze.ts: braze_id, braze[field_1], braze[field_2], untagged
	LookTyped      = 2 // numbers, yesno, dates and times
	LookPivoted    = 3 // sessions.count pivoted on users.platform
	LookTableCalc  = 4 // a tagged table calculation
	LookLongString = 5 // a braze[about] column, every 10th value over 255 characters
)

// SeedModel and SeedView name the seeded explore.
const (
	SeedModel = "braze"
	SeedView  = "users"
)

var firstNames = []string{"Ann", "Bo", "Chen", "Dara", "Eli", "Fatou", "Gus", "Hana"}
var platforms = []string{"ios", "android", "web"}

// SeedFields are the fields of the seeded users view.
var SeedFields = []Field{
	{Name: "users.external_id", Label: "Users External ID", Type: "string", Tags: []string{"braze_id"}},
	{Name: "users.field_1", Label: "Users Field 1", Type: "string", Tags: []string{"braze[field_1]"}},
	{Name: "users.field_2", Label: "Users Field 2", Type: "number", Tags: []string{"braze[field_2]"}},
	{Name: "users.untagged", Label: "Users Untagged", Type: "string"},
	{Name: "users.first_name", Label: "Users First Name", Type: "string", Tags: []string{"braze[first_name]"}},
	{Name: "users.signup_date", Label: "Users Signup Date", Type: "date_date", Tags: []string{"braze[signup_date]"}},
	{Name: "users.last_seen_time", Label: "Users Last Seen Time", Type: "date_time", Tags: []string{"braze[last_seen]"}},
	{Name: "users.is_vip", Label: "Users Is VIP (Yes/No)", Type: "yesno", Tags: []string{"braze[is_vip]"}},
	{Name: "users.lifetime_value", Label: "Users Lifetime Value", Type: "number", Tags: []string{"braze[lifetime_value]"}},
	{Name: "users.bio", Label: "Users Bio", Type: "string", Tags: []string{"braze[about]"}},
	{Name: "users.platform", Label: "Users Platform", Type: "string"},
	{Name: "sessions.count", Label: "Sessions Count", Type: "count", Measure: true},
}

// SeedRow is the deterministic content of row i of the seeded view.
func SeedRow(i int) Values {
	bio := fmt.Sprintf("bio of user %d", i)
	if i%10 == 9 {
		bio = strings.Repeat("x", 300)
	}
	return Values{
		"users.external_id":    fmt.Sprintf("user_%07d", i),
		"users.field_1":        fmt.Sprintf("f1_%d", i),
		"users.field_2":        i % 100,
		"users.untagged":       fmt.Sprintf("untagged_%d", i),
		"users.first_name":     firstNames[i%len(firstNames)],
		"users.signup_date":    fmt.Sprintf("2021-06-%02d", i%28+1),
		"users.last_seen_time": fmt.Sprintf("2021-06-10 %02d:%02d:56", i%24, i%60),
		"users.is_vip":         map[bool]string{true: "Yes", false: "No"}[i%3 == 0],
		"users.lifetime_value": float64(i%1000) + 0.5,
		"users.bio":            bio,
		"users.platform":       platforms[i%len(platforms)],
		"sessions.count":       i%5 + 1,
	}
}

// Seed returns options for an instance with the users view holding rows
// rows and the seeded Looks.
func Seed(rows int) Options {
	q := func(limit string, fields ...string) Query {
		return Query{Model: SeedModel, View: SeedView, Fields: fields, Limit: limit}
	}
	pivot := q("-1", "users.external_id", "users.platform", "sessions.count")
	pivot.Pivots = []string{"users.platform"}
	calc := q("-1", "users.external_id", "sessions.count")
	calc.TableCalcs = []TableCalc{{Name: "double_sessions", Label: "Double Sessions", IsNumeric: true,
		Tags: []string{"braze[double_sessions]"},
		Calc: func(v Values) any { return 2 * v["sessions.count"].(int) }}}
	return Options{
		Views: []View{{Model: SeedModel, Name: SeedView, Fields: SeedFields, Rows: rows, Row: SeedRow}},
		Looks: []Look{
			{ID: LookScenario, Title: "Braze scenario", Query: q("-1", "users.external_id", "users.field_1", "users.field_2", "users.untagged")},
			{ID: LookTyped, Title: "Typed attributes", Query: q("-1", "users.external_id", "users.first_name", "users.signup_date", "users.last_seen_time", "users.is_vip", "users.lifetime_value")},
			{ID: LookPivoted, Title: "Sessions by platform", Query: pivot},
			{ID: LookTableCalc, Title: "Table calculation", Query: calc},
			{ID: LookLongString, Title: "Long strings", Query: q("-1", "users.external_id", "users.bio")},
		},
	}
}
