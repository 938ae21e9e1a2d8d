package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
)

// checkState reports the destination's state folder (docs/state.md): where it is, whether the
// run will be able to write it, and whether the state in it can be read. It changes nothing.
func checkState(ctx context.Context, r *Result, name string, ds *destination.Spec) {
	line := name + ": state folder"
	if !*ds.Diff {
		r.add(Pass, line, "diff: false: no state is kept; every run sends every attribute", "")
		return
	}
	dir := ds.StateDir
	if err := writable(dir); err != nil {
		r.add(Fail, line, fmt.Sprintf("%s is not writable: %v", dir, err),
			"point state_dir at a folder this user may write (it is created if missing)")
		return
	}
	st, err := state.Open(dir, state.Options{ReadOnly: true})
	var locked *state.LockedError
	switch {
	case errors.Is(err, state.ErrNoState):
		r.add(Pass, line, dir+": writable; no state yet (the first run sends every user once)", "")
		return
	case errors.As(err, &locked):
		r.add(Warn, line, err.Error(), "a sync started now would be refused until that run ends")
		return
	case err != nil:
		r.add(Fail, line, err.Error(), "see docs/state.md, \"When the folder is damaged\"")
		return
	}
	defer st.Close()
	tables, users := 0, int64(0)
	if infos, err := st.Namespaces(ctx); err == nil {
		for _, info := range infos {
			if info.Namespace.Destination == name {
				tables++
				users += info.Users
			}
		}
	}
	r.add(Pass, line, fmt.Sprintf("%s: writable; %d users in %d tables for this destination, %d bytes on disk",
		dir, users, tables, st.DiskBytes()), "")
}

// checkWarehouseState reports the warehouse state (state.backend: snowflake, docs/state-snowflake.md):
// that its connection logs in, whether brazesync's tables exist yet, what they track for this
// destination, and whether a run holds them now. It takes no lock and writes nothing.
func checkWarehouseState(ctx context.Context, r *Result, name string, ds *destination.Spec) {
	if !*ds.Diff || ds.State.Backend != destination.BackendSnowflake {
		return
	}
	line := name + ": warehouse state"
	where := layout.Ident(ds.State.Database) + "." + layout.Ident(ds.State.Schema)
	in, err := destination.InspectState(ctx, name, ds)
	switch {
	case err != nil:
		r.add(Fail, line, oneLine(err), "fix the state: block (connection, database, schema: the connection settings are the Snowflake source's); see docs/state-snowflake.md")
	case !in.Tables:
		r.add(Pass, line, fmt.Sprintf("%s: logged in; no state tables yet (or this role cannot see them): the first run creates them "+
			"(it needs CREATE SCHEMA on the database, or CREATE TABLE on an existing schema) and sends every user once", where), "")
	case in.Holder != nil:
		r.add(Warn, line, fmt.Sprintf("%s: held by %s", where, in.Holder), "a sync started now would be refused until that run ends or its lock expires")
	default:
		r.add(Pass, line, fmt.Sprintf("%s: logged in; version %d, %d users in %d tables for this destination", where, in.Version, in.Users, in.Namespaces), "")
	}
}

// writable checks that dir, or the nearest folder above it that exists, accepts a new file.
func writable(dir string) error {
	d := dir
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a folder", d)
			}
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			return err
		}
		d = parent
	}
	f, err := os.CreateTemp(d, ".brazesync-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
