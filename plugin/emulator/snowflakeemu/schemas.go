package snowflakeemu

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// The emulator has one database. Its default schema (Options.Schema) holds the seeded tables under
// their own names; every other schema, made with CREATE SCHEMA, lives in the same SQLite file with
// its tables named "SCHEMA.TABLE". The rewrite turns DB.SCHEMA.TABLE and SCHEMA.TABLE into that
// quoted name, for the schemas that exist only: a two-part name whose first part is not a schema
// (an alias and its column) is left alone.

// schemaSet is the set of schemas CREATE SCHEMA made.
type schemaSet struct {
	mu      sync.Mutex
	def     string
	schemas map[string]bool
}

func newSchemaSet(def string) *schemaSet {
	return &schemaSet{def: strings.ToUpper(def), schemas: map[string]bool{}}
}

// load finds the schemas of a database file made earlier (Options.Dir): their tables' names say.
func (s *schemaSet) load(db *sql.DB) error {
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND instr(name, '.') > 0`)
	if err != nil {
		return fmt.Errorf("reading schemas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("reading schemas: %w", err)
		}
		schema, _, _ := strings.Cut(name, ".")
		s.add(schema)
	}
	return rows.Err()
}

// add records a schema; it reports false when it already existed.
func (s *schemaSet) add(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == s.def || s.schemas[name] {
		return false
	}
	s.schemas[name] = true
	return true
}

func (s *schemaSet) remove(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.schemas[name]
	delete(s.schemas, name)
	return ok
}

func (s *schemaSet) has(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return name == s.def || s.schemas[name]
}

func (s *schemaSet) isOther(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.schemas[name]
}

// tableName is the SQLite name of SCHEMA.TABLE.
func (s *schemaSet) tableName(schema, table string) string {
	if schema == "" || schema == s.def {
		return table
	}
	return schema + "." + table
}

// identPart is one part of a dotted name: its Snowflake name (bare parts upper-cased, quoted
// parts as written) and where it ends.
type identPart struct {
	name string
	end  int
}

// readIdent reads a bare or double-quoted identifier at s[i], or returns ok false.
func readIdent(s string, i int) (p identPart, ok bool) {
	if i >= len(s) {
		return p, false
	}
	if s[i] == '"' {
		j := skipQuoted(s, i)
		if j <= i+1 || s[j-1] != '"' {
			return p, false
		}
		return identPart{name: strings.ReplaceAll(s[i+1:j-1], `""`, `"`), end: j}, true
	}
	c := s[i]
	if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return p, false
	}
	j := i + 1
	for j < len(s) && isIdentByte(s[j]) && s[j] != '.' {
		j++
	}
	return identPart{name: strings.ToUpper(s[i:j]), end: j}, true
}

// readDotted reads a dotted name (up to four parts) starting at s[i].
func readDotted(s string, i int) []identPart {
	var parts []identPart
	for len(parts) < 4 {
		p, ok := readIdent(s, i)
		if !ok {
			break
		}
		parts = append(parts, p)
		if p.end >= len(s) || s[p.end] != '.' {
			break
		}
		i = p.end + 1
	}
	return parts
}

// quoteIdent quotes a name for SQLite.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// qualify rewrites DB.SCHEMA.TABLE and SCHEMA.TABLE, for schemas CREATE SCHEMA made, into their
// SQLite table name. Literals, comments and other names are copied as they are. A three-part name
// in another database, or in a schema that does not exist, fails as on Snowflake (002003).
func (s *schemaSet) qualify(sql, database string) (string, error) {
	if s == nil {
		return sql, nil
	}
	var b strings.Builder
	database = strings.ToUpper(database)
	for i := 0; i < len(sql); {
		if j := skipQuoted(sql, i); j != i && sql[i] != '"' {
			b.WriteString(sql[i:j])
			i = j
			continue
		}
		if i > 0 && (isIdentByte(sql[i-1]) || sql[i-1] == '"') {
			b.WriteByte(sql[i])
			i++
			continue
		}
		parts := readDotted(sql, i)
		switch {
		case len(parts) == 3 && parts[0].name == database && s.isOther(parts[1].name):
			b.WriteString(quoteIdent(s.tableName(parts[1].name, parts[2].name)))
			i = parts[2].end
		case len(parts) == 3 && parts[0].name != database:
			return "", compileError(codeCompileNoObject, "Database '%s' does not exist or not authorized.", parts[0].name)
		case len(parts) == 3 && !s.has(parts[1].name):
			return "", compileError(codeCompileNoObject, "Schema '%s.%s' does not exist or not authorized.", parts[0].name, parts[1].name)
		case len(parts) == 2 && s.isOther(parts[0].name):
			b.WriteString(quoteIdent(s.tableName(parts[0].name, parts[1].name)))
			i = parts[1].end
		case len(parts) > 0:
			b.WriteString(sql[i:parts[len(parts)-1].end])
			i = parts[len(parts)-1].end
		default:
			b.WriteByte(sql[i])
			i++
		}
	}
	return b.String(), nil
}
