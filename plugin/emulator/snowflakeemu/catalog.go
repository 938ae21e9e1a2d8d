package snowflakeemu

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// ColumnDef declares a seeded column: its name and its Snowflake type
// (e.g. "NUMBER(10,2)", "TIMESTAMP_TZ", "VARIANT").
type ColumnDef struct {
	Name, Type string
}

// Catalog creates typed tables. Each column is declared in SQLite with its
// Snowflake type name, which SQLite keeps as the column's declared type;
// the emulator reads it back for every result column that refers to a
// table column directly.
type Catalog struct {
	db     *sql.DB
	mu     sync.Mutex
	tables map[string][]column
}

// CreateTable creates (or replaces) a table with Snowflake-typed columns.
func (c *Catalog) CreateTable(ctx context.Context, name string, cols []ColumnDef) error {
	defs := make([]string, len(cols))
	typed := make([]column, len(cols))
	for i, col := range cols {
		t, ok := ParseType(col.Type)
		if !ok {
			return fmt.Errorf("table %s column %s: unknown Snowflake type %q", name, col.Name, col.Type)
		}
		defs[i] = fmt.Sprintf("%q %s", strings.ToUpper(col.Name), t)
		typed[i] = column{Name: strings.ToUpper(col.Name), Type: t}
	}
	name = strings.ToUpper(name)
	stmt := fmt.Sprintf("DROP TABLE IF EXISTS %q; CREATE TABLE %q (%s)", name, name, strings.Join(defs, ", "))
	if _, err := c.db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("creating table %s: %w", name, err)
	}
	c.mu.Lock()
	c.tables[name] = typed
	c.mu.Unlock()
	return nil
}

// Insert adds rows to a catalog table, converting each value to the
// emulator's storage form for its column type (see Canonical): timestamps
// may be given as time.Time, ISO text or epoch seconds; semi-structured
// values as JSON text.
func (c *Catalog) Insert(ctx context.Context, table string, rows [][]any) error {
	table = strings.ToUpper(table)
	c.mu.Lock()
	cols, ok := c.tables[table]
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("inserting into %s: table not in catalog", table)
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("inserting into %s: %w", table, err)
	}
	defer func() { _ = tx.Rollback() }()
	marks := strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",")
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %q VALUES (%s)", table, marks))
	if err != nil {
		return fmt.Errorf("inserting into %s: %w", table, err)
	}
	defer stmt.Close()
	for n, row := range rows {
		if len(row) != len(cols) {
			return fmt.Errorf("inserting into %s: row %d has %d values, want %d", table, n, len(row), len(cols))
		}
		vals := make([]any, len(row))
		for i, v := range row {
			if vals[i], err = Canonical(cols[i].Type, v); err != nil {
				return fmt.Errorf("inserting into %s row %d column %s: %w", table, n, cols[i].Name, err)
			}
			// A NUMBER too precise for a double is kept as decimal text; as a
			// BLOB it escapes the column's NUMERIC affinity, which would round it.
			if txt, ok := vals[i].(string); ok && cols[i].Type.Kind == "fixed" {
				vals[i] = []byte(txt)
			}
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("inserting into %s row %d: %w", table, n, err)
		}
	}
	return tx.Commit()
}

// Exec runs SQLite SQL directly (for bulk INSERT … SELECT seeding).
func (c *Catalog) Exec(ctx context.Context, stmt string) error {
	_, err := c.db.ExecContext(ctx, stmt)
	return err
}
