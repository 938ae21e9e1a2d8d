// Package layout is what brazesync keeps in Snowflake for the warehouse state backend: the tables,
// their columns, and how a namespace is named there. The state backend (package snowflakestate)
// writes them; the Snowflake source's diff pushdown reads them. It holds definitions only, so the
// source does not link the embedded store.
//
// Every table lives in one schema (default BRAZESYNC) of a database the state spec names:
//
//	BRAZESYNC_STATE       one row per user and attribute, plus one per user for the export flag:
//	                      user keys and 8-byte hashes, never attribute values
//	BRAZESYNC_NAMESPACES  one row per namespace (destination, table, key kind, export flag)
//	BRAZESYNC_LOCKS       one row per destination: the run holding it, the state's version, and
//	                      the mapping settings the diff pushdown needs
//	BRAZESYNC_EVENTS      one row per event identity and version: 16-byte identities (hex), their
//	                      status and expiry, never event contents
package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// DefaultSchema is the schema brazesync's tables go to unless the state spec names another.
const DefaultSchema = "BRAZESYNC"

// Table names.
const (
	StateTable      = "BRAZESYNC_STATE"
	NamespacesTable = "BRAZESYNC_NAMESPACES"
	LocksTable      = "BRAZESYNC_LOCKS"
	EventsTable     = "BRAZESYNC_EVENTS"
)

// UserRow is the ATTRIBUTE of a user's own row in StateTable (its export flag). Braze attribute
// names are never empty, so it cannot be an attribute's.
const UserRow = ""

// HashBytes is the width of BRAZESYNC_STATE.HASH: state.HashSize.
const HashBytes = 8

// Namespace is state.Namespace as the tables name it: one independent set of user records.
type Namespace struct {
	Destination, Endpoint, Table, KeyKind, ExportAttribute, ExportValue string
}

// ID names the namespace in the tables (column NS): 16 hex digits of the SHA-256 of its parts,
// separated by a NUL byte, which none of them can hold.
func (n Namespace) ID() string {
	parts := []string{n.Destination, n.Endpoint, n.Table, n.KeyKind, n.ExportAttribute, n.ExportValue}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

var bareIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// Ident renders a database or schema name from a spec as a Snowflake identifier: a plain name
// as it is (Snowflake upper-cases it), anything else quoted, exactly as written.
func Ident(name string) string {
	if bareIdent.MatchString(name) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Qualified is DATABASE.SCHEMA.TABLE.
func Qualified(database, schema, table string) string {
	return Ident(database) + "." + Ident(schema) + "." + table
}

// Literal renders s as a SQL string literal that means the same to Snowflake, which reads
// backslash escapes inside quotes, and to ANSI SQL engines, which do not: backslashes are
// spliced in with CHR(92) and quotes doubled.
func Literal(s string) string {
	parts := strings.Split(s, `\`)
	for i, p := range parts {
		parts[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	return strings.Join(parts, " || CHR(92) || ")
}
