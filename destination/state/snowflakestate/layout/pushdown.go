package layout

import (
	"github.com/brazesync/brazesync/schema"
)

// Pushdown is what the destination records in BRAZESYNC_LOCKS.PUSHDOWN (as JSON) when it opens
// the state: everything the Snowflake source needs to compute, in SQL, the same diff the
// destination would compute row by row. The source resolves the same schema.Mapping from its own
// columns and this Config, so both sides agree on the key, the attributes and their encoding.
type Pushdown struct {
	// Destination is the destination's name and Endpoint the Braze REST host: with the table,
	// key kind and export flag they name the namespace (Namespace.ID).
	Destination string `json:"destination"`
	Endpoint    string `json:"endpoint"`
	// Config is the destination's mapping settings (key_column, user_key, attributes, nulls, …).
	Config schema.Config `json:"config"`
	// ExportAttribute and ExportValue are the export flag; ExportAttribute is empty when it is off.
	ExportAttribute string `json:"export_attribute"`
	ExportValue     string `json:"export_value"`
	// RefreshAfterSeconds re-sends attributes (and the flag) accepted longer ago than this; 0: never.
	RefreshAfterSeconds int64 `json:"refresh_after_seconds,omitempty"`
	// Disabled, when set, says why this run must read every row (a full refresh, say).
	Disabled string `json:"disabled,omitempty"`
	// Mirror is set when the destination removes the flag from users who left the query: it needs
	// every key, so the source must not hold unchanged rows back.
	Mirror bool `json:"mirror,omitempty"`
}
