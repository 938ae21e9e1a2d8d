package looker

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
)

// TagsMetadataKey is the Arrow field-metadata key that carries a column's
// LookML tags as a JSON array (the brazesync column-tag contract).
const TagsMetadataKey = "brazesync:tags"

// IDTag marks the column holding the Braze user identifier.
const IDTag = "braze_id"

// PivotSeparator joins a pivoted field's name and its pivot key into one
// column name, e.g. "sessions.count|ios".
const PivotSeparator = "|"

// attrTag matches a whole braze[attr] tag. Unlike the stock action's
// unanchored, case-insensitive regex it accepts only the exact form.
var attrTag = regexp.MustCompile(`^braze\[([^\[\]]+)\]$`)

// AttributeFromTag returns attr for a tag of the exact form braze[attr].
func AttributeFromTag(tag string) (string, bool) {
	m := attrTag.FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Column is one output column derived from a json_detail field.
type Column struct {
	// Name is the Arrow column name: the Looker field name, or
	// field|pivotKey for one pivot's slice of a pivoted field.
	Name string
	// Field is the Looker metadata the column comes from.
	Field Field
	// Kind is dimension, measure, table_calculation, filter or parameter.
	Kind string
	// PivotKey selects one entry of a pivoted cell; empty when not pivoted.
	PivotKey string
	// Type is the Arrow type values are converted to.
	Type arrow.DataType
	// Tags are the LookML tags carried into field metadata.
	Tags []string
}

// ArrowField returns the column as an Arrow field with its tags in metadata.
func (c Column) ArrowField() arrow.Field {
	f := arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
	return withTags(f, c.Tags)
}

// withTags adds tags to f's metadata in the same encoding as
// schema.FieldWithTags (kept local so this package does not depend on the
// mapping package).
func withTags(f arrow.Field, tags []string) arrow.Field {
	if len(tags) == 0 {
		return f
	}
	raw, _ := json.Marshal(tags)
	keys := []string{TagsMetadataKey}
	vals := []string{string(raw)}
	for i, k := range f.Metadata.Keys() {
		if k != TagsMetadataKey {
			keys = append(keys, k)
			vals = append(vals, f.Metadata.Values()[i])
		}
	}
	f.Metadata = arrow.NewMetadata(keys, vals)
	return f
}

// isBrazeTag reports whether a tag asks brazesync to send the column.
func isBrazeTag(tag string) bool {
	if tag == IDTag {
		return true
	}
	_, ok := AttributeFromTag(tag)
	return ok
}

func brazeTags(f Field) []string {
	var out []string
	for _, t := range f.Tags {
		if isBrazeTag(t) {
			out = append(out, t)
		}
	}
	return out
}

// Columns derives the output columns of a result from its header.
//
// Pivots are handled explicitly, never by silent loss: a pivoted measure or
// table calculation becomes one column per pivot key (name field|key, no
// braze tags, since one user attribute cannot hold several pivot values), and
// the run is refused with an error if a braze tag sits on a pivot dimension
// (whose values are column headers, not row values) or on a pivoted field.
func Columns(h *Header) ([]Column, error) {
	if err := checkPivotTags(h); err != nil {
		return nil, err
	}
	var cols []Column
	add := func(kind string, fields []Field, pivoted bool) {
		for _, f := range fields {
			typ := ArrowType(f, kind)
			if !pivoted {
				cols = append(cols, Column{Name: f.Name, Field: f, Kind: kind, Type: typ, Tags: f.Tags})
				continue
			}
			for _, p := range h.Pivots {
				cols = append(cols, Column{Name: f.Name + PivotSeparator + p.Key, Field: f, Kind: kind,
					PivotKey: p.Key, Type: typ, Tags: nonBrazeTags(f.Tags)})
			}
		}
	}
	add("dimension", h.Fields.Dimensions, false)
	add("measure", h.Fields.Measures, h.Pivoted())
	add("table_calculation", h.Fields.TableCalculations, h.Pivoted())
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	return cols, nil
}

func nonBrazeTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !isBrazeTag(t) {
			out = append(out, t)
		}
	}
	return out
}

func checkPivotTags(h *Header) error {
	for _, f := range h.Fields.Pivots {
		if tags := brazeTags(f); len(tags) > 0 {
			return fmt.Errorf("field %q is tagged %s but is a pivot dimension: its values become column headers, not per-user values; remove the pivot", f.Name, strings.Join(tags, ","))
		}
	}
	if !h.Pivoted() {
		return nil
	}
	for _, group := range [][]Field{h.Fields.Measures, h.Fields.TableCalculations} {
		for _, f := range group {
			if tags := brazeTags(f); len(tags) > 0 {
				return fmt.Errorf("field %q is tagged %s but is pivoted into %d columns: one Braze attribute cannot hold several pivot values; remove the pivot or the tag", f.Name, strings.Join(tags, ","), len(h.Pivots))
			}
		}
	}
	return nil
}

func checkColumns(cols []Column) error {
	seen := make(map[string]bool, len(cols))
	for _, c := range cols {
		for _, t := range c.Tags {
			// braze[] or braze[a]b] would map to a surprising attribute name
			// (the stock action sent "" and "a]b"): refuse them by name.
			if strings.HasPrefix(t, "braze[") && !isBrazeTag(t) {
				return fmt.Errorf("field %q has a malformed tag %q: use braze[attribute] with no brackets inside", c.Field.Name, t)
			}
		}
		if seen[c.Name] {
			return fmt.Errorf("duplicate column %q in result", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// ArrowSchema returns the Arrow schema of the columns, tags in field metadata.
func ArrowSchema(cols []Column, md *arrow.Metadata) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = c.ArrowField()
	}
	return arrow.NewSchema(fields, md)
}
