package snowflake

import (
	"errors"
	"fmt"

	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
)

// PushdownState says where the braze destination keeps its warehouse state (its spec's
// `state: {backend: snowflake, database, schema}`), for the queries with `pushdown: true`: they
// return only the rows whose attributes differ from it. It must be in the account this source
// logs in to.
type PushdownState struct {
	// Database holding brazesync's tables (default: this source's database).
	Database string `json:"database,omitempty"`
	// Schema holding brazesync's tables (default BRAZESYNC).
	Schema string `json:"schema,omitempty"`
	// The braze destination's name in the sync spec (default braze).
	Destination string `json:"destination,omitempty"`
}

const defaultPushdownDestination = "braze"

// pushdownState returns the state location with its defaults filled.
func (s *Spec) pushdownState() PushdownState {
	var p PushdownState
	if s.PushdownState != nil {
		p = *s.PushdownState
	}
	if p.Database == "" {
		p.Database = s.Database
	}
	if p.Schema == "" {
		p.Schema = layout.DefaultSchema
	}
	if p.Destination == "" {
		p.Destination = defaultPushdownDestination
	}
	return p
}

// validatePushdown checks that a query asking for pushdown can find the state.
func (s *Spec) validatePushdown() error {
	for i, q := range s.Queries {
		if q.Pushdown && s.pushdownState().Database == "" {
			return fmt.Errorf("queries[%d] (%s): pushdown needs the database of the destination's state: set pushdown_state.database (or database)", i, q.Name)
		}
	}
	if s.PushdownState != nil && !s.anyPushdown() {
		return errors.New("pushdown_state: no query has pushdown: true")
	}
	return nil
}

func (s *Spec) anyPushdown() bool {
	for _, q := range s.Queries {
		if q.Pushdown {
			return true
		}
	}
	return false
}
