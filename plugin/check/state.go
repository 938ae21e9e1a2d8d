package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/state"
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
