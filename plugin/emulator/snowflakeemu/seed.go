package snowflakeemu

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AllTypesTable is a small table with one column of every Snowflake type
// the source supports, for type-mapping tests.
const AllTypesTable = "ALL_TYPES"

// AllTypesColumns declares AllTypesTable.
var AllTypesColumns = []ColumnDef{
	{"ID", "NUMBER(38,0)"}, {"AMOUNT", "NUMBER(10,2)"}, {"BIG_AMOUNT", "NUMBER(38,4)"},
	{"RATIO", "FLOAT"}, {"NAME", "VARCHAR"}, {"ACTIVE", "BOOLEAN"}, {"BIRTHDAY", "DATE"},
	{"UPDATED_NTZ", "TIMESTAMP_NTZ(9)"}, {"UPDATED_NTZ3", "TIMESTAMP_NTZ(3)"},
	{"SEEN_LTZ", "TIMESTAMP_LTZ(9)"}, {"SEEN_TZ", "TIMESTAMP_TZ(9)"}, {"SEEN_TZ3", "TIMESTAMP_TZ(3)"},
	{"ATTRS", "VARIANT"}, {"TAGS", "ARRAY"}, {"PREFS", "OBJECT"},
}

// AllTypesRows is AllTypesTable's content: edge values (2^53+1, negative
// scaled decimals, offsets ±hh:mm, nested JSON) and a row of NULLs.
var AllTypesRows = [][]any{
	{int64(9007199254740993), "123.45", "-98765432109876.5432", 0.25, "Zoë", true, "1990-02-28",
		"2024-05-06 07:08:09.123456", "2024-05-06 07:08:09.123", "2024-05-06T07:08:09.654321Z",
		"2024-05-06 09:08:09.123456+02:00", "2024-05-06 01:38:09.5-05:30",
		`{"plan":"gold","score":7}`, `["a","b"]`, `{"email":true,"push":false}`},
	{int64(-7), "-0.05", "0", -1.5e10, "", false, "1969-12-31",
		"1960-01-01 00:00:00", "1999-12-31 23:59:59.999", "2000-01-01 00:00:00+00:00",
		"2000-01-01 00:00:00-08:00", "2000-01-01 00:00:00+14:00",
		`42`, `[1,{"x":null}]`, `{}`},
	{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
}

// SeedAllTypes creates and fills AllTypesTable.
func (e *Emulator) SeedAllTypes(ctx context.Context) error {
	if err := e.catalog.CreateTable(ctx, AllTypesTable, AllTypesColumns); err != nil {
		return err
	}
	return e.catalog.Insert(ctx, AllTypesTable, AllTypesRows)
}

// Braze Currents tables, as the Braze Looker blocks read them (TIME is
// epoch seconds; USER_ID is Braze's id, EXTERNAL_USER_ID the customer's).
var currentsTables = map[string][]ColumnDef{
	"USERS_BEHAVIORS_APP_FIRSTSESSION": {{"ID", "VARCHAR"}, {"USER_ID", "VARCHAR"}, {"EXTERNAL_USER_ID", "VARCHAR"},
		{"APP_ID", "VARCHAR"}, {"SESSION_ID", "VARCHAR"}, {"PLATFORM", "VARCHAR"}, {"TIME", "NUMBER(38,0)"}},
	"USERS_BEHAVIORS_APP_SESSIONSTART": {{"ID", "VARCHAR"}, {"USER_ID", "VARCHAR"}, {"EXTERNAL_USER_ID", "VARCHAR"},
		{"APP_ID", "VARCHAR"}, {"SESSION_ID", "VARCHAR"}, {"PLATFORM", "VARCHAR"}, {"TIME", "NUMBER(38,0)"}},
	"USERS_BEHAVIORS_CUSTOMEVENT": {{"ID", "VARCHAR"}, {"USER_ID", "VARCHAR"}, {"EXTERNAL_USER_ID", "VARCHAR"},
		{"APP_ID", "VARCHAR"}, {"NAME", "VARCHAR"}, {"PROPERTIES", "VARIANT"}, {"TIME", "NUMBER(38,0)"}},
	"USERS_BEHAVIORS_PURCHASE": {{"ID", "VARCHAR"}, {"USER_ID", "VARCHAR"}, {"EXTERNAL_USER_ID", "VARCHAR"},
		{"APP_ID", "VARCHAR"}, {"PRODUCT_ID", "VARCHAR"}, {"PRICE", "NUMBER(12,2)"}, {"CURRENCY", "VARCHAR"},
		{"PROPERTIES", "VARIANT"}, {"TIME", "NUMBER(38,0)"}},
	"USERS_MESSAGES_EMAIL_SEND": {{"ID", "VARCHAR"}, {"USER_ID", "VARCHAR"}, {"EXTERNAL_USER_ID", "VARCHAR"},
		{"EMAIL_ADDRESS", "VARCHAR"}, {"CAMPAIGN_ID", "VARCHAR"}, {"CAMPAIGN_NAME", "VARCHAR"},
		{"MESSAGE_VARIATION_ID", "VARCHAR"}, {"SEND_ID", "VARCHAR"}, {"TIME", "NUMBER(38,0)"}, {"TIMEZONE", "VARCHAR"}},
	"USERS_MESSAGES_EMAIL_OPEN": {{"ID", "VARCHAR"}, {"USER_ID", "VARCHAR"}, {"EXTERNAL_USER_ID", "VARCHAR"},
		{"EMAIL_ADDRESS", "VARCHAR"}, {"CAMPAIGN_ID", "VARCHAR"}, {"MESSAGE_VARIATION_ID", "VARCHAR"},
		{"SEND_ID", "VARCHAR"}, {"USER_AGENT", "VARCHAR"}, {"TIME", "NUMBER(38,0)"}},
	"USERS_MESSAGES_EMAIL_CLICK": {{"ID", "VARCHAR"}, {"USER_ID", "VARCHAR"}, {"EXTERNAL_USER_ID", "VARCHAR"},
		{"EMAIL_ADDRESS", "VARCHAR"}, {"CAMPAIGN_ID", "VARCHAR"}, {"MESSAGE_VARIATION_ID", "VARCHAR"},
		{"SEND_ID", "VARCHAR"}, {"URL", "VARCHAR"}, {"USER_AGENT", "VARCHAR"}, {"TIME", "NUMBER(38,0)"}},
}

// currentsFill fills each table from the user sequence u(i) and a small
// per-user index k(j), with deterministic pseudo-random spreads
// (h(i, salt) is a multiplicative hash), relative to the emulator clock.
// Per user: 1 first session; 1–8 session starts spread over up to 120
// days; 0–3 custom events; a purchase for a third of users; 1–4 email
// sends of which about half are opened and a quarter clicked.
var currentsFill = []string{
	`INSERT INTO USERS_BEHAVIORS_APP_FIRSTSESSION
	 SELECT 'fs-'||i, printf('%024x', i*7919), 'user_'||i, 'app_1', 'sess-'||i||'-0',
	        CASE i%3 WHEN 0 THEN 'ios' WHEN 1 THEN 'android' ELSE 'web' END,
	        {now} - 86400*(30 + H(i,1)%90) - H(i,9)%86400
	 FROM u`,
	`INSERT INTO USERS_BEHAVIORS_APP_SESSIONSTART
	 SELECT 'ss-'||i||'-'||j, printf('%024x', i*7919), 'user_'||i, 'app_1', 'sess-'||i||'-'||j, f.PLATFORM,
	        MIN({now} - 60, f.TIME + j*86400*(1 + H(i,3)%6) + H(i*8+j,4)%3600)
	 FROM u JOIN k ON j < 1 + H(i,2)%8 JOIN USERS_BEHAVIORS_APP_FIRSTSESSION f ON f.ID = 'fs-'||i`,
	`INSERT INTO USERS_BEHAVIORS_CUSTOMEVENT
	 SELECT 'ce-'||i||'-'||j, printf('%024x', i*7919), 'user_'||i, 'app_1',
	        CASE j%3 WHEN 0 THEN 'added_to_cart' WHEN 1 THEN 'viewed_product' ELSE 'shared' END,
	        '{"sku":"SKU-'||(H(i,5)%50)||'","quantity":'||(1+j)||'}', {now} - 3600*(1 + H(i*4+j,6)%2000)
	 FROM u JOIN k ON j < H(i,7)%4`,
	`INSERT INTO USERS_BEHAVIORS_PURCHASE
	 SELECT 'pu-'||i||'-'||j, printf('%024x', i*7919), 'user_'||i, 'app_1', 'SKU-'||(H(i*2+j,8)%50),
	        (100 + H(i*2+j,10)%19900)/100.0, 'USD', '{"coupon":'||(CASE WHEN j=0 THEN 'null' ELSE '"SPRING"' END)||'}',
	        {now} - 3600*(1 + H(i*2+j,11)%2000)
	 FROM u JOIN k ON j < 1 + H(i,12)%2 WHERE H(i,13)%3 = 0`,
	`INSERT INTO USERS_MESSAGES_EMAIL_SEND
	 SELECT 'es-'||i||'-'||j, printf('%024x', i*7919), 'user_'||i, 'user'||i||'@example.com',
	        'cmp_'||(j%3), 'Campaign '||(j%3), 'mv_'||(j%3), 'send-'||i||'-'||j,
	        {now} - 86400*(1 + H(i*4+j,14)%60), 'UTC'
	 FROM u JOIN k ON j < 1 + H(i,15)%4`,
	`INSERT INTO USERS_MESSAGES_EMAIL_OPEN
	 SELECT 'eo'||substr(ID,3), USER_ID, EXTERNAL_USER_ID, EMAIL_ADDRESS, CAMPAIGN_ID, MESSAGE_VARIATION_ID, SEND_ID,
	        'Mozilla/5.0', TIME + 600
	 FROM USERS_MESSAGES_EMAIL_SEND WHERE H(CAST(substr(EXTERNAL_USER_ID,6) AS INTEGER)*4 + CAST(substr(SEND_ID, length(SEND_ID)) AS INTEGER), 16)%2 = 0`,
	`INSERT INTO USERS_MESSAGES_EMAIL_CLICK
	 SELECT 'ec'||substr(ID,3), USER_ID, EXTERNAL_USER_ID, EMAIL_ADDRESS, CAMPAIGN_ID, MESSAGE_VARIATION_ID, SEND_ID,
	        'https://example.com/p/'||CAMPAIGN_ID, USER_AGENT, TIME + 300
	 FROM USERS_MESSAGES_EMAIL_OPEN WHERE H(CAST(substr(EXTERNAL_USER_ID,6) AS INTEGER), 17)%2 = 0`,
}

// SeedCurrents creates the Currents tables and generates data for users
// user_1 … user_N inside SQLite (INSERT … SELECT over a recursive
// sequence), so millions of rows take seconds. Sessions average 4.5 per
// user, so N=250000 gives over a million SESSIONSTART rows.
func (e *Emulator) SeedCurrents(ctx context.Context, users int) error {
	for name, cols := range currentsTables {
		if err := e.catalog.CreateTable(ctx, name, cols); err != nil {
			return err
		}
	}
	now := fmt.Sprint(e.opts.Now.Unix())
	with := fmt.Sprintf(`WITH RECURSIVE u(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM u WHERE i < %d),
	 k(j) AS (SELECT 0 UNION ALL SELECT j+1 FROM k WHERE j < 7) `, users)
	for _, stmt := range currentsFill {
		stmt = strings.ReplaceAll(stmt, "{now}", now)
		stmt = hashRe(stmt)
		ins, sel, _ := strings.Cut(stmt, "\n")
		if _, err := e.db.ExecContext(ctx, ins+"\n"+with+sel); err != nil {
			return fmt.Errorf("seeding currents: %w", err)
		}
	}
	return nil
}

// hashRe expands H(x, salt) into a SQLite expression: a multiplicative
// hash that is deterministic and spreads consecutive ids.
func hashRe(s string) string {
	for {
		i := strings.Index(s, "H(")
		if i < 0 {
			return s
		}
		close, err := matchParen(s, i+1)
		if err != nil {
			return s
		}
		args := s[i+2 : close]
		comma := strings.LastIndex(args, ",")
		x, salt := args[:comma], strings.TrimSpace(args[comma+1:])
		s = s[:i] + fmt.Sprintf("((((%s) + %s*104729) * 2654435761) %% 2147483647)", x, salt) + s[close+1:]
	}
}

// SeedClock is a convenient fixed clock for tests: 2024-06-01T00:00:00Z.
var SeedClock = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
