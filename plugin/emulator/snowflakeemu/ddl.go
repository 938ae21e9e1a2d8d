package snowflakeemu

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
)

var (
	reCreateSchema = regexp.MustCompile(`(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?(?:TRANSIENT\s+)?SCHEMA\s+(IF\s+NOT\s+EXISTS\s+)?(.+?)\s*;?\s*$`)
	reDropSchema   = regexp.MustCompile(`(?is)^\s*DROP\s+SCHEMA\s+(IF\s+EXISTS\s+)?(.+?)(\s+CASCADE|\s+RESTRICT)?\s*;?\s*$`)
	reCreateTable  = regexp.MustCompile(`(?is)^\s*CREATE\s+(OR\s+REPLACE\s+)?(?:(?:LOCAL\s+|GLOBAL\s+)?(?:TEMP|TEMPORARY|VOLATILE|TRANSIENT)\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*\(`)
	reDropTable    = regexp.MustCompile(`(?is)^\s*DROP\s+TABLE\s+(IF\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*;?\s*$`)
	reTruncate     = regexp.MustCompile(`(?is)^\s*TRUNCATE\s+(?:TABLE\s+)?(IF\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*;?\s*$`)
	reConstraint   = regexp.MustCompile(`(?is)^\s*(?:CONSTRAINT\s+("(?:[^"]|"")+"|\S+)\s+)?(PRIMARY\s+KEY|UNIQUE|FOREIGN\s+KEY)\s*\((.*)\)`)
	reColumnTail   = regexp.MustCompile(`(?i)\s(NOT\s+NULL|NULL|DEFAULT|PRIMARY\s+KEY|UNIQUE|COMMENT|COLLATE|AUTOINCREMENT|IDENTITY|CONSTRAINT|REFERENCES)\b`)
)

// schemaName reads a schema name: SCHEMA or DB.SCHEMA (DB must be the emulator's database).
func (e *Emulator) schemaName(text string) (string, error) {
	parts := readDotted(text, 0)
	if len(parts) == 0 || parts[len(parts)-1].end != len(text) || len(parts) > 2 {
		return "", compileError(codeSyntax, "syntax error: unexpected schema name '%s'", text)
	}
	if len(parts) == 2 && parts[0].name != strings.ToUpper(e.opts.Database) {
		return "", compileError(codeCompileNoObject, "Database '%s' does not exist or not authorized.", parts[0].name)
	}
	return parts[len(parts)-1].name, nil
}

// schemaStatement runs CREATE SCHEMA and DROP SCHEMA; ok is false for other statements.
func (e *Emulator) schemaStatement(sqlText string) (statementResult, bool, error) {
	ddl := statementResult{typeID: statementDDL}
	if m := reCreateSchema.FindStringSubmatch(sqlText); m != nil {
		name, err := e.schemaName(m[3])
		if err != nil {
			return ddl, true, err
		}
		if !e.schemas.add(name) {
			if m[1] == "" && m[2] == "" {
				return ddl, true, compileError(codeObjectExists, "Object '%s' already exists.", name)
			}
			ddl.status = name + " already exists, statement succeeded."
			return ddl, true, nil
		}
		ddl.status = "Schema " + name + " successfully created."
		return ddl, true, nil
	}
	if m := reDropSchema.FindStringSubmatch(sqlText); m != nil {
		name, err := e.schemaName(m[2])
		if err != nil {
			return ddl, true, err
		}
		if err := e.dropSchema(name); err != nil {
			return ddl, true, err
		}
		if !e.schemas.remove(name) && m[1] == "" {
			return ddl, true, compileError(codeCompileNoObject, "Schema '%s' does not exist or not authorized.", name)
		}
		ddl.status = name + " successfully dropped."
		return ddl, true, nil
	}
	return ddl, false, nil
}

// dropSchema drops every table of a schema.
func (e *Emulator) dropSchema(name string) error {
	rows, err := e.db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?`, len(name)+1, name+".")
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	for _, t := range tables {
		if _, err := e.db.Exec("DROP TABLE IF EXISTS " + quoteIdent(t)); err != nil {
			return err
		}
		e.catalog.forget(t)
	}
	return nil
}

// createTable runs CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (columns, constraints). Columns
// keep their Snowflake types as SQLite declared types, so results are typed as on Snowflake.
// Constraints are not enforced, as on Snowflake (only NOT NULL is); a PRIMARY KEY becomes a plain
// index, which the emulator needs to join large tables quickly.
func (e *Emulator) createTable(ctx context.Context, stmt string) (statementResult, error) {
	ddl := statementResult{typeID: statementDDL}
	m := reCreateTable.FindStringSubmatchIndex(stmt)
	if m == nil {
		return ddl, compileError(codeNotSupported, "the emulator supports CREATE SCHEMA and CREATE TABLE name (columns) only")
	}
	replace, ifNotExists := m[2] >= 0, m[4] >= 0
	name, _ := readIdent(stmt, m[6])
	open := m[1] - 1
	close, err := matchParen(stmt, open)
	if err != nil {
		return ddl, err
	}
	if rest := strings.TrimRight(strings.TrimSpace(stmt[close+1:]), ";"); rest != "" {
		return ddl, compileError(codeNotSupported, "the emulator does not support table options (%s)", rest)
	}
	cols, index, err := columnDefs(stmt[open+1 : close])
	if err != nil {
		return ddl, err
	}
	if exists, err := e.tableExists(ctx, name.name); err != nil {
		return ddl, err
	} else if exists && !replace {
		if ifNotExists {
			ddl.status = name.name + " already exists, statement succeeded."
			return ddl, nil
		}
		return ddl, compileError(codeObjectExists, "Object '%s' already exists.", name.name)
	}
	defs := make([]string, len(cols))
	typed := make([]column, len(cols))
	for i, c := range cols {
		defs[i] = quoteIdent(c.name) + " " + c.typ.String() + c.tail
		typed[i] = column{Name: c.name, Type: c.typ}
	}
	ddlText := "CREATE TABLE " + quoteIdent(name.name) + " (" + strings.Join(defs, ", ") + ")"
	_, err = e.inTransaction(ctx, func(conn *sql.Conn) (int64, error) {
		if replace {
			if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(name.name)); err != nil {
				return 0, err
			}
		}
		if _, err := conn.ExecContext(ctx, ddlText); err != nil {
			return 0, err
		}
		if len(index) > 0 {
			idx := make([]string, len(index))
			for i, c := range index {
				idx[i] = quoteIdent(c)
			}
			_, err := conn.ExecContext(ctx, "CREATE INDEX "+quoteIdent("pk:"+name.name)+" ON "+quoteIdent(name.name)+" ("+strings.Join(idx, ", ")+")")
			return 0, err
		}
		return 0, nil
	})
	if err != nil {
		return ddl, err
	}
	e.catalog.remember(name.name, typed)
	ddl.status = "Table " + name.name + " successfully created."
	return ddl, nil
}

type columnDef struct {
	name string
	typ  Type
	tail string // NOT NULL and DEFAULT, as SQLite takes them
}

// columnDefs splits a CREATE TABLE body into columns and the primary key's columns.
func columnDefs(body string) ([]columnDef, []string, error) {
	var cols []columnDef
	var index []string
	for _, item := range splitTopLevel(body, ',') {
		item = strings.TrimSpace(item)
		if m := reConstraint.FindStringSubmatch(item); m != nil {
			if strings.HasPrefix(strings.ToUpper(m[2]), "PRIMARY") {
				for _, c := range splitTopLevel(m[3], ',') {
					p, ok := readIdent(strings.TrimSpace(c), 0)
					if !ok {
						return nil, nil, compileError(codeSyntax, "syntax error in PRIMARY KEY (%s)", m[3])
					}
					index = append(index, p.name)
				}
			}
			continue
		}
		name, ok := readIdent(item, 0)
		if !ok {
			return nil, nil, compileError(codeSyntax, "syntax error: unexpected '%s'", item)
		}
		rest := " " + strings.TrimSpace(item[name.end:])
		typeText, tail := rest, ""
		if loc := reColumnTail.FindStringIndex(rest); loc != nil {
			typeText, tail = rest[:loc[0]], rest[loc[0]:]
		}
		t, ok := ParseType(typeText)
		if !ok {
			return nil, nil, compileError(codeSyntax, "unsupported data type '%s' for column %s", strings.TrimSpace(typeText), name.name)
		}
		cols = append(cols, columnDef{name: name.name, typ: t, tail: sqliteColumnTail(tail)})
	}
	if len(cols) == 0 {
		return nil, nil, compileError(codeSyntax, "a table needs at least one column")
	}
	return cols, index, nil
}

var reDefault = regexp.MustCompile(`(?i)\bDEFAULT\s+('(?:[^']|'')*'|-?[0-9.]+|TRUE|FALSE|NULL)`)

// sqliteColumnTail keeps what Snowflake enforces of a column's attributes: NOT NULL, and a
// literal DEFAULT.
func sqliteColumnTail(tail string) string {
	var out string
	if regexp.MustCompile(`(?i)\bNOT\s+NULL\b`).MatchString(tail) {
		out += " NOT NULL"
	}
	if m := reDefault.FindStringSubmatch(tail); m != nil {
		out += " DEFAULT " + m[1]
	}
	return out
}

// splitTopLevel splits s on sep outside parentheses, literals and quoted names.
func splitTopLevel(s string, sep byte) []string {
	var out []string
	depth, last := 0, 0
	for i := 0; i < len(s); {
		if j := skipQuoted(s, i); j != i {
			i = j
			continue
		}
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[last:i])
				last = i + 1
			}
		}
		i++
	}
	return append(out, s[last:])
}

func (e *Emulator) tableExists(ctx context.Context, name string) (bool, error) {
	var n int
	err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	return n > 0, err
}

func (e *Emulator) dropTable(ctx context.Context, stmt string) (statementResult, error) {
	ddl := statementResult{typeID: statementDDL}
	m := reDropTable.FindStringSubmatch(stmt)
	if m == nil {
		return ddl, compileError(codeNotSupported, "the emulator supports DROP TABLE [IF EXISTS] name only")
	}
	name, _ := readIdent(m[2], 0)
	exists, err := e.tableExists(ctx, name.name)
	if err != nil {
		return ddl, err
	}
	if !exists {
		if m[1] == "" {
			return ddl, compileError(codeCompileNoObject, "Table '%s' does not exist or not authorized.", name.name)
		}
		ddl.status = "Drop statement executed successfully (" + name.name + " already dropped)."
		return ddl, nil
	}
	if _, err := e.db.ExecContext(ctx, "DROP TABLE "+quoteIdent(name.name)); err != nil {
		return ddl, err
	}
	e.catalog.forget(name.name)
	ddl.status = name.name + " successfully dropped."
	return ddl, nil
}

func (e *Emulator) truncate(ctx context.Context, stmt string) (statementResult, error) {
	ddl := statementResult{typeID: statementDDL}
	m := reTruncate.FindStringSubmatch(stmt)
	if m == nil {
		return ddl, compileError(codeNotSupported, "the emulator supports TRUNCATE [TABLE] [IF EXISTS] name only")
	}
	name, _ := readIdent(m[2], 0)
	if exists, err := e.tableExists(ctx, name.name); err != nil || !exists {
		if err == nil && m[1] == "" {
			err = compileError(codeCompileNoObject, "Table '%s' does not exist or not authorized.", name.name)
		}
		return ddl, err
	}
	if _, err := e.db.ExecContext(ctx, "DELETE FROM "+quoteIdent(name.name)); err != nil {
		return ddl, err
	}
	ddl.status = "Statement executed successfully."
	return ddl, nil
}

// remember and forget keep the catalog in step with DDL.
func (c *Catalog) remember(name string, cols []column) {
	c.mu.Lock()
	c.tables[name] = cols
	c.mu.Unlock()
}

func (c *Catalog) forget(name string) {
	c.mu.Lock()
	delete(c.tables, name)
	c.mu.Unlock()
}
