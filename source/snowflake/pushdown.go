package snowflake

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
	bzschema "github.com/brazesync/brazesync/schema"
)

// Diff pushdown: with `pushdown: true` a query is wrapped so that Snowflake itself compares each
// row with the braze destination's warehouse state and returns only the rows the destination would
// send something for. The comparison is the destination's own: per attribute, the first 8 bytes of
// SHA-256 over the value's JSON exactly as the destination encodes it (state.HashValue), written in
// SQL as SUBSTR(SHA2_BINARY(<json text>, 256), 1, 8). Rows are held back only when every attribute
// is provably unchanged; whatever the SQL cannot prove (a type whose JSON text Snowflake cannot
// reproduce byte for byte, a string with a control character or over 255 characters) is returned,
// and the destination diffs it as usual. So pushdown can only return too much, never hold back a
// change.
//
// The destination records its mapping settings in the lock row at the start of each run (package
// layout); the source resolves the same schema.Mapping from its own columns and those settings, so
// both agree on the key, the attributes and their encoding. Anything that keeps the SQL from
// computing the destination's diff makes the query run as written, with a log line saying why.

// Column names the wrapped query adds; a query whose own columns start with the prefix is not
// wrapped.
const (
	pushdownPrefix  = "__BRAZESYNC"
	heldColumn      = pushdownPrefix + "_HELD"
	queryRowsColumn = pushdownPrefix + "_QUERY_ROWS"
	srcAlias        = pushdownPrefix + "_SRC"
	diffAlias       = pushdownPrefix + "_DIFF"
)

// plainStandardFields are the standard profile fields the destination sends exactly as a custom
// string attribute (schema: stdString); the other standard fields are validated or normalised
// there, which SQL does not reproduce.
var plainStandardFields = map[string]bool{
	"first_name": true, "last_name": true, "home_city": true, "country": true, "language": true, "phone": true, "image_url": true,
}

// pushdown is one query's wrapped form and what its result carries besides the table's rows.
type pushdown struct {
	sql string
	// queryRows is the row count of the query as written, from the result's summary row: the rows
	// not streamed were held back.
	queryRows atomic.Int64
	summaries atomic.Int64
}

// querySQL is the SQL to run for qt: the wrapped query when pushdown applies, else its own.
func (p *pushdown) querySQL(qt *queryTable) string {
	if p == nil {
		return qt.query.SQL
	}
	return p.sql
}

// errNoPushdown says why a query runs as written; it is logged, never returned.
type errNoPushdown struct{ reason string }

func (e errNoPushdown) Error() string { return e.reason }

func noPushdown(format string, args ...any) error { return errNoPushdown{fmt.Sprintf(format, args...)} }

// planPushdown wraps qt's query when it asks for pushdown and the destination's state allows it;
// otherwise it logs why the query reads every row and returns nil.
func (c *Client) planPushdown(ctx context.Context, qt *queryTable) *pushdown {
	if !qt.query.Pushdown {
		return nil
	}
	p, err := c.buildPushdown(ctx, qt, time.Now())
	if err != nil {
		c.logger.Warn().Str("table", qt.query.Name).Str("reason", err.Error()).
			Msg("pushdown: the query reads every row; the destination diffs them itself")
		return nil
	}
	c.logger.Info().Str("table", qt.query.Name).Msg("pushdown: Snowflake returns only the rows that differ from the warehouse state")
	return p
}

// stateSettings reads the destination's lock row: its committed version, whether superseded rows
// are compacted, and the recorded mapping settings.
func (c *Client) stateSettings(ctx context.Context, loc PushdownState) (uint64, layout.Pushdown, error) {
	var pd layout.Pushdown
	var version, compacted int64
	var settings sql.NullString
	locks := layout.Qualified(loc.Database, loc.Schema, layout.LocksTable)
	err := c.db.QueryRowContext(sf.WithQueryTag(ctx, c.spec.QueryTag), "SELECT VERSION, COMPACTED_VERSION, PUSHDOWN FROM "+locks+" WHERE DESTINATION = ?", loc.Destination).
		Scan(&version, &compacted, &settings)
	var se *sf.SnowflakeError
	switch {
	case errors.Is(err, sql.ErrNoRows), errors.As(err, &se) && se.Number == 2003:
		return 0, pd, noPushdown("destination %q has no warehouse state in %s.%s yet (its first run sends everything)", loc.Destination, loc.Database, loc.Schema)
	case err != nil:
		return 0, pd, noPushdown("reading the warehouse state's settings: %v", err)
	case version == 0:
		return 0, pd, noPushdown("the warehouse state of destination %q is empty (its first run sends everything)", loc.Destination)
	case compacted != version:
		return 0, pd, noPushdown("the warehouse state holds superseded rows of an interrupted upload; the next upload compacts them")
	case !settings.Valid:
		return 0, pd, noPushdown("the destination recorded no mapping settings")
	}
	if err := json.Unmarshal([]byte(settings.String), &pd); err != nil {
		return 0, pd, noPushdown("the recorded mapping settings are unreadable: %v", err)
	}
	return uint64(version), pd, nil
}

func (c *Client) buildPushdown(ctx context.Context, qt *queryTable, now time.Time) (*pushdown, error) {
	loc := c.spec.pushdownState()
	version, settings, err := c.stateSettings(ctx, loc)
	if err != nil {
		return nil, err
	}
	switch {
	case settings.Disabled != "":
		return nil, noPushdown("the destination asked for every row: %s", settings.Disabled)
	case settings.Mirror:
		return nil, noPushdown("mirror mode removes the flag from users missing from the query, so the destination needs every key")
	}
	plan, err := newDiffPlan(qt, settings, version, now)
	if err != nil {
		return nil, err
	}
	return &pushdown{sql: plan.sql(qt.query.SQL, layout.Qualified(loc.Database, loc.Schema, layout.StateTable))}, nil
}

// diffPlan is what the wrapped query compares: the key, each attribute and the flag.
type diffPlan struct {
	ns       string
	version  uint64
	key      string // SQL text of the user key as the state holds it
	cols     []planColumn
	attrs    []planAttr
	flag     bool
	unset    bool  // nulls: unset (a null is sent as JSON null)
	cutoff   int64 // refresh_after: sent at or before this (Unix seconds) is sent again; 0: never
	colNames map[string]bool
}

// planColumn is a result column: its quoted name and the cast that keeps its type.
type planColumn struct {
	quoted, typeName string
}

// planAttr is one mapped attribute: its name, its column and its value's JSON text.
type planAttr struct {
	name, json, column string
}

func quoteName(n string) string { return `"` + strings.ReplaceAll(n, `"`, `""`) + `"` }

func newDiffPlan(qt *queryTable, settings layout.Pushdown, version uint64, now time.Time) (*diffPlan, error) {
	cfg := settings.Config
	cfg.SetDefaults()
	m, err := bzschema.NewMapping(qt.schema, cfg)
	if err != nil {
		return nil, noPushdown("the destination's mapping does not resolve on this query's columns: %v", err)
	}
	p := &diffPlan{version: version, flag: settings.ExportAttribute != "", unset: cfg.Nulls == bzschema.NullsUnset, colNames: map[string]bool{}}
	ns := layout.Namespace{Destination: settings.Destination, Endpoint: settings.Endpoint, Table: qt.table.Name, KeyKind: m.UserKey()}
	if p.flag { // as the destination names it: no export value without an export attribute
		ns.ExportAttribute, ns.ExportValue = settings.ExportAttribute, settings.ExportValue
	}
	p.ns = ns.ID()
	if settings.RefreshAfterSeconds > 0 {
		p.cutoff = now.Unix() - settings.RefreshAfterSeconds
	}
	byName := map[string]int{}
	for i, c := range qt.cols {
		if strings.HasPrefix(strings.ToUpper(c.name), pushdownPrefix) || p.colNames[c.name] {
			return nil, noPushdown("column %q clashes with the columns pushdown adds, or appears twice", c.name)
		}
		p.colNames[c.name] = true
		byName[c.name] = i
		t, err := castType(qt.table.Columns[i].Type, c)
		if err != nil {
			return nil, err
		}
		p.cols = append(p.cols, planColumn{quoted: quoteName(c.name), typeName: t})
	}
	for _, cm := range m.Columns() {
		if cm.Ignored != "" {
			continue
		}
		c := qt.cols[byName[cm.Column]]
		if cm.Key {
			if p.key, err = keyText(c); err != nil {
				return nil, err
			}
			continue
		}
		if bzschema.IsStandardField(cm.Attribute) && !plainStandardFields[cm.Attribute] {
			return nil, noPushdown("attribute %q is a standard field the destination validates or normalises", cm.Attribute)
		}
		a, err := attrJSON(c)
		if err != nil {
			return nil, err
		}
		a.name = cm.Attribute
		p.attrs = append(p.attrs, a)
	}
	return p, nil
}

// castType is the Snowflake type a result column is cast to in the wrapped query: its own, so the
// wrapper changes no column's type.
func castType(dt arrow.DataType, c colSpec) (string, error) {
	switch c.sfType {
	case "FIXED":
		if d, ok := dt.(*arrow.Decimal128Type); ok {
			return fmt.Sprintf("NUMBER(%d,%d)", d.Precision, d.Scale), nil
		}
		return "NUMBER(38,0)", nil
	case "REAL":
		return "FLOAT", nil
	case "TEXT":
		return "VARCHAR", nil
	case "BOOLEAN", "DATE", "VARIANT", "ARRAY", "OBJECT", "BINARY", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		return c.sfType, nil
	}
	return "", noPushdown("column %q has type %s", c.name, c.sfType)
}

// keyText is the user key as the destination writes it: text as it is, integers in decimal.
func keyText(c colSpec) (string, error) {
	ref := "s." + quoteName(c.name)
	switch {
	case c.sfType == "TEXT":
		return ref, nil
	case c.sfType == "FIXED" && c.scale == 0:
		return "TO_VARCHAR(" + ref + ")", nil
	}
	return "", noPushdown("the key column %q has type %s", c.name, c.sfType)
}

// attrJSON is the JSON text the destination sends for a column's value (schema's encoders):
//
//	NUMBER(p,0)  decimal digits, as TO_VARCHAR writes them ("-7", "9007199254740993")
//	BOOLEAN      true / false
//	VARCHAR      a JSON string: backslash, quote, tab, newline and return escaped as \\ \" \t \n \r,
//	             everything else as it is (the destination escapes nothing else below U+0080
//	             except control characters, and nothing at or above it)
//
// The SQL text equals the destination's for every value but two kinds: a string with a control
// character other than tab, newline and return (the destination writes \u00XX, the SQL the raw
// character) and a string over 255 characters (the destination rejects or truncates it). Neither
// SQL text is one the destination ever writes, so its hash matches no recorded hash and the row is
// returned, never held back by mistake. Other types (scaled numbers, floats, dates, timestamps,
// semi-structured values) have no SQL rendering provably equal to the destination's, so a query
// mapping them reads every row.
func attrJSON(c colSpec) (planAttr, error) {
	ref := "s." + quoteName(c.name)
	a := planAttr{column: ref}
	switch {
	case c.sfType == "FIXED" && c.scale == 0:
		a.json = "TO_VARCHAR(" + ref + ")"
	case c.sfType == "BOOLEAN":
		a.json = "CASE WHEN " + ref + " THEN 'true' WHEN NOT " + ref + " THEN 'false' END"
	case c.sfType == "TEXT":
		esc := ref
		for _, r := range []struct{ from, to string }{
			{"CHR(92)", "CHR(92) || CHR(92)"}, {"CHR(34)", "CHR(92) || CHR(34)"},
			{"CHR(9)", "CHR(92) || 't'"}, {"CHR(10)", "CHR(92) || 'n'"}, {"CHR(13)", "CHR(92) || 'r'"},
		} {
			esc = "REPLACE(" + esc + ", " + r.from + ", " + r.to + ")"
		}
		a.json = "CHR(34) || " + esc + " || CHR(34)"
	default:
		return a, noPushdown("column %q has type %s, whose JSON text Snowflake cannot reproduce exactly", c.name, c.sfType)
	}
	return a, nil
}

// hashOf is state.HashValue in SQL.
func hashOf(jsonText string) string { return "SUBSTR(SHA2_BINARY(" + jsonText + ", 256), 1, 8)" }

// fresh is true when a time recorded in the state needs no refresh.
func (p *diffPlan) fresh(col string) string {
	if p.cutoff == 0 {
		return "TRUE"
	}
	return "COALESCE(" + col + " > " + strconv.FormatInt(p.cutoff, 10) + ", FALSE)"
}

// held is the predicate of a row the destination would send nothing for: its user is in the state,
// has the flag (when there is one), and every attribute holds the value the row has.
func (p *diffPlan) held() string {
	conds := []string{"u.USER_KEY IS NOT NULL"}
	if p.flag {
		conds = append(conds, "COALESCE(u.FLAGGED, FALSE)", p.fresh("u.SENT_AT"))
	}
	for i, a := range p.attrs {
		st := "a" + strconv.Itoa(i)
		same := "COALESCE(" + st + ".HASH = " + hashOf(a.json) + ", FALSE) AND " + p.fresh(st+".SENT_AT")
		if p.unset {
			nullSame := "COALESCE(" + st + ".HASH = " + hashOf("'null'") + ", FALSE) AND " + p.fresh(st+".SENT_AT")
			conds = append(conds, "(CASE WHEN "+a.column+" IS NULL THEN "+nullSame+" ELSE "+same+" END)")
			continue
		}
		conds = append(conds, "("+a.column+" IS NULL OR ("+same+"))")
	}
	return strings.Join(conds, "\n    AND ")
}

// sql wraps userSQL. The result is the query's own columns (cast to their own types) for the rows
// not held back, and one summary row, all NULL but for the query's row count: the rows held back
// are that count less the rows returned. Counting the query itself, not the held rows, keeps the
// join and the hashing to one pass over the rows.
func (p *diffPlan) sql(userSQL, stateTable string) string {
	userSQL = strings.TrimRight(strings.TrimSpace(userSQL), "; \t\r\n")
	// Each join takes one state row per user (the table holds one version of each, once compacted).
	join := func(alias, attr string) string {
		return "\n  LEFT JOIN " + stateTable + " " + alias + " ON " + alias + ".NS = '" + p.ns + "' AND " + alias + ".USER_KEY = " + p.key +
			" AND " + alias + ".ATTRIBUTE = " + layout.Literal(attr) + " AND " + alias + ".VERSION <= " + strconv.FormatUint(p.version, 10)
	}
	var b strings.Builder
	b.WriteString("WITH " + quoteName(srcAlias) + " AS (\n" + userSQL + "\n),\n")
	b.WriteString(quoteName(diffAlias) + " AS (\n  SELECT s.*, (" + p.held() + ") AS " + quoteName(heldColumn) + "\n  FROM " + quoteName(srcAlias) + " s")
	b.WriteString(join("u", layout.UserRow))
	for i, a := range p.attrs {
		b.WriteString(join("a"+strconv.Itoa(i), a.name))
	}
	b.WriteString("\n)\n")
	rowCols, nullCols := make([]string, len(p.cols)), make([]string, len(p.cols))
	for i, c := range p.cols {
		rowCols[i] = "CAST(" + c.quoted + " AS " + c.typeName + ") AS " + c.quoted
		nullCols[i] = "CAST(NULL AS " + c.typeName + ")"
	}
	b.WriteString("SELECT " + strings.Join(rowCols, ", ") + ", CAST(NULL AS NUMBER(19,0)) AS " + quoteName(queryRowsColumn) +
		"\nFROM " + quoteName(diffAlias) + " WHERE NOT " + quoteName(heldColumn))
	b.WriteString("\nUNION ALL\nSELECT " + strings.Join(nullCols, ", ") + ", COUNT(*)\nFROM " + quoteName(srcAlias))
	return b.String()
}
