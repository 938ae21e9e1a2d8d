package snowflakestate

import (
	"context"
	"fmt"

	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
)

// tables are the fully qualified names of brazesync's tables.
type tables struct {
	schema, state, namespaces, locks, events string
}

func newTables(database, schema string) tables {
	return tables{
		schema:     layout.Ident(database) + "." + layout.Ident(schema),
		state:      layout.Qualified(database, schema, layout.StateTable),
		namespaces: layout.Qualified(database, schema, layout.NamespacesTable),
		locks:      layout.Qualified(database, schema, layout.LocksTable),
		events:     layout.Qualified(database, schema, layout.EventsTable),
	}
}

// The tables. Their primary keys are not enforced by Snowflake; they document each table's key.
// docs/state-snowflake.md describes every column.
const (
	stateDDL = `CREATE TABLE IF NOT EXISTS %s (
  NS VARCHAR(16) NOT NULL,
  USER_KEY VARCHAR NOT NULL,
  ATTRIBUTE VARCHAR NOT NULL,
  HASH BINARY(8),
  SENT_AT NUMBER(19,0),
  FLAGGED BOOLEAN,
  VERSION NUMBER(19,0) NOT NULL,
  PRIMARY KEY (NS, USER_KEY, ATTRIBUTE, VERSION))`
	namespacesDDL = `CREATE TABLE IF NOT EXISTS %s (
  NS VARCHAR(16) NOT NULL,
  DESTINATION VARCHAR NOT NULL,
  ENDPOINT VARCHAR NOT NULL,
  TABLE_NAME VARCHAR NOT NULL,
  KEY_KIND VARCHAR NOT NULL,
  EXPORT_ATTRIBUTE VARCHAR NOT NULL,
  EXPORT_VALUE VARCHAR NOT NULL,
  USERS NUMBER(19,0),
  FLAGGED_USERS NUMBER(19,0),
  LAST_RUN VARCHAR,
  RESET_VERSION NUMBER(19,0) NOT NULL,
  VERSION NUMBER(19,0) NOT NULL,
  PRIMARY KEY (NS))`
	locksDDL = `CREATE TABLE IF NOT EXISTS %s (
  DESTINATION VARCHAR NOT NULL,
  RUN_ID VARCHAR,
  HOST VARCHAR,
  PID NUMBER(10,0),
  ACQUIRED_AT TIMESTAMP_LTZ,
  HEARTBEAT_AT TIMESTAMP_LTZ,
  EXPIRES_AT TIMESTAMP_LTZ,
  VERSION NUMBER(19,0) NOT NULL,
  COMPACTED_VERSION NUMBER(19,0) NOT NULL,
  PUSHDOWN VARCHAR,
  PRIMARY KEY (DESTINATION))`
)

// createTables creates the schema and the tables when absent. It needs CREATE SCHEMA on the
// database the first time, and CREATE TABLE on the schema; the error says which grant is missing.
func (s *Store) createTables(ctx context.Context) error {
	stmts := []string{
		"CREATE SCHEMA IF NOT EXISTS " + s.names.schema,
		fmt.Sprintf(stateDDL, s.names.state),
		fmt.Sprintf(namespacesDDL, s.names.namespaces),
		fmt.Sprintf(locksDDL, s.names.locks),
		fmt.Sprintf(eventsDDL, s.names.events),
	}
	for i, stmt := range stmts {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			what := "schema " + s.names.schema
			grant := "GRANT CREATE SCHEMA ON DATABASE " + layout.Ident(s.cfg.Database) + " TO ROLE <the state role>"
			if i > 0 {
				what = "table " + []string{"", s.names.state, s.names.namespaces, s.names.locks, s.names.events}[i]
				grant = "GRANT CREATE TABLE ON SCHEMA " + s.names.schema + " TO ROLE <the state role>"
			}
			return explain(fmt.Sprintf("creating the warehouse state's %s (%s, or create it once as an admin)", what, grant), err)
		}
	}
	return nil
}
