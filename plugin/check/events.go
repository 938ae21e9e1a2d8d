package check

import (
	"fmt"
	"strings"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/schema"
)

// checkEventTable maps an events or purchases table as the destination will (docs/events.md) and
// reports it on one line: the key, where each member comes from, the properties and the identity.
// It reports whether the table is one: attribute tables are checkTable's.
func checkEventTable(r *Result, prefix string, t *table, ds *destination.Spec) bool {
	cfg := ds.Tables[t.name]
	kind, err := schema.TableKind(t.schema, cfg)
	line := prefix + ": events"
	switch {
	case err != nil:
		r.add(Fail, line, oneLine(err), "set kind in the destination's tables."+t.name+" settings")
		return true
	case kind == schema.KindAttributes:
		return false
	}
	line = prefix + ": " + kind
	m, err := schema.NewEventMapping(t.schema, ds.Config, cfg)
	if err != nil {
		r.add(Fail, line, oneLine(err), "see docs/events.md: each member comes from tables."+t.name+" settings, a tag, or a column named like the tag")
		return true
	}
	var parts []string
	for _, c := range m.Columns() {
		if c.Ignored == "" {
			parts = append(parts, fmt.Sprintf("%s <- %s (%s)", c.Attribute, c.Column, c.Source))
		}
	}
	identity := "identity: a hash of the object (an id_column keeps identities when the mapping changes)"
	if m.HasIDColumn() {
		identity = "identity: the id column"
	}
	status := Pass
	if !m.HasTimeColumn() {
		status = Warn
		identity += "; no time column: every row is sent with the sync's start time"
	}
	r.add(status, line, strings.Join(parts, ", ")+"; "+identity, "")
	return true
}
