package snowflakestate

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	sf "github.com/snowflakedb/gosnowflake"
)

// Inspection is what a look at the warehouse state finds without taking its lock or writing
// anything (brazesync check).
type Inspection struct {
	// Tables says brazesync's tables exist and this role can read them; false before the first
	// run (or when the role may not see them: Snowflake does not tell the two apart).
	Tables bool
	// Version is the state's committed version (0: no run has uploaded yet).
	Version uint64
	// Holder is the live run holding the destination's lock, if any: a sync started now waits
	// for nothing and is refused.
	Holder *Holder
	// Namespaces and Users count the destination's tables and the users they track.
	Namespaces int
	Users      int64
}

// codeNoObject is Snowflake's "does not exist or not authorized" (SQL compilation error 002003).
const codeNoObject = 2003

// Inspect logs in and reads the destination's lock row and namespaces. It fails as a run's Open
// would on credentials, network or grants, so those show before the first sync.
func Inspect(ctx context.Context, cfg Config) (Inspection, error) {
	if err := cfg.setDefaults(); err != nil {
		return Inspection{}, err
	}
	drv := *cfg.Driver
	if drv.Params == nil {
		drv.Params = map[string]*string{} // the driver panics on a nil map
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, drv))
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return Inspection{}, explain("connecting to the warehouse state", err)
	}
	names := newTables(cfg.Database, cfg.Schema)
	var in Inspection
	h, held, now, err := readHolder(ctx, db, names, cfg.Destination)
	var se *sf.SnowflakeError
	switch {
	case errors.As(err, &se) && se.Number == codeNoObject && strings.Contains(se.Message, "Database '"):
		return in, err // a run could not create its schema there either
	case errors.As(err, &se) && se.Number == codeNoObject:
		return in, nil // the schema or the tables: the first run creates them
	case err != nil:
		return in, err
	}
	in.Tables = true
	if held && !h.Expires.Before(now) {
		in.Holder = &h
	}
	var version sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT VERSION FROM "+names.locks+" WHERE DESTINATION = ?", cfg.Destination).Scan(&version); err != nil && err != sql.ErrNoRows {
		return in, explain("reading the warehouse state's version", err)
	}
	in.Version = uint64(version.Int64)
	var users sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), SUM(USERS) FROM "+names.namespaces+" WHERE DESTINATION = ?", cfg.Destination).
		Scan(&in.Namespaces, &users); err != nil {
		return in, explain("reading the warehouse state's namespaces", err)
	}
	in.Users = users.Int64
	return in, nil
}
