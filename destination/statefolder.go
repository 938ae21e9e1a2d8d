package destination

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
)

// StateLocation is where a destination spec keeps its sync state, for brazesync state show and
// reset.
type StateLocation struct {
	// Dir is state_dir: the state itself, or the warehouse state's working copy.
	Dir string
	// Kept is false when the spec keeps no state (diff: false).
	Kept bool
	// Warehouse is DATABASE.SCHEMA of brazesync's tables with state.backend: snowflake, where the
	// state really lives; "" when the folder is the state.
	Warehouse string
}

// StateFolder returns where a destination spec (its `spec:` block as JSON) keeps its state.
func StateFolder(specJSON []byte) (StateLocation, error) {
	s, err := ParseSpec(specJSON)
	if err != nil {
		return StateLocation{}, fmt.Errorf("reading the destination spec: %w", err)
	}
	loc := StateLocation{Dir: s.StateDir, Kept: *s.Diff}
	if s.State.Backend == BackendSnowflake {
		loc.Warehouse = layout.Ident(s.State.Database) + "." + layout.Ident(s.State.Schema)
	}
	return loc, nil
}

// State is what the writer needs of its state backend: the folder (state.Local), or the warehouse
// state with the folder as its working copy. OpenState opens one outside a run.
type State interface {
	state.Store
	// DiskBytes is the size of the state folder.
	DiskBytes() uint64
}

// OpenState opens the state of the destination called name, whose spec is specJSON, exactly as
// its run would: the folder, or the warehouse state — its lock taken (a run holding it refuses
// this, naming the run) and the folder brought up to date from it — so that what state show
// prints, and what state reset forgets, is what the next run from any machine will see. Close
// releases it.
func OpenState(name string, specJSON []byte, runID string, log zerolog.Logger) (State, error) {
	s, err := ParseSpec(specJSON)
	if err != nil {
		return nil, fmt.Errorf("reading the destination spec: %w", err)
	}
	return openStateStore(name, s, runID, log, report.NewTally(runID, time.Now()))
}
