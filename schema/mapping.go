package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
)

// Sources of a column's role, reported in ColumnMapping.Source.
const (
	SourceSpec = "spec" // key_column or the attributes map
	SourceTag  = "tag"  // braze_id / braze[attr] tag in the field metadata
	SourceName = "name" // column named braze[attr]
	SourceKey  = "key"  // key column found by its name matching user_key
)

// ColumnMapping describes what one column does. A column that feeds several
// attributes (several braze[...] tags) appears once per attribute; the key
// column's entry has the identifier name (external_id, …) as Attribute.
type ColumnMapping struct {
	Column    string
	Attribute string
	Source    string
	Key       bool   // this entry is the user key
	Ignored   string // non-empty: why the column is not sent
}

// Mapping is the resolved mapping of one Arrow schema (one table) to Braze
// attributes. Resolve it once per schema with NewMapping and encode rows
// with an Encoder.
//
// Precedence, highest first:
//  1. the spec: key_column, and the attributes map (COLUMN -> attribute);
//  2. Looker-style tags in the field metadata: "braze_id" marks the key,
//     "braze[attr]" maps the column to attr;
//  3. column names of the form "braze[attr]";
//  4. for the key only: a column named like user_key, compared
//     case-insensitively (EXTERNAL_ID for external_id; alias_name for
//     user_alias).
//
// Tag and name matching is exact and anchored: "xbraze_idx", "braze[a" and
// "BRAZE[a]" do not match. A column named in the spec has its tags and name
// ignored; an attribute already mapped at a higher level is not mapped again
// from a lower one (the column is reported as Ignored). Two columns for one
// key or one attribute at the same level is an error naming both. Columns
// starting with _cq_ are always ignored.
type Mapping struct {
	schema    *arrow.Schema
	cfg       Config
	rejectCol int // index of ColumnRejected, or -1
	keyCol    int
	keyName   string // identifier member name: external_id, braze_id, user_alias, email, phone
	fields    []outField
	columns   []ColumnMapping
}

// outField is one attribute member of the output object.
type outField struct {
	col  int
	attr string
	std  stdKind
}

// reservedAttributes cannot be mapped: they are identifiers or request
// flags whose meaning would change if a column supplied them.
var reservedAttributes = map[string]bool{
	"external_id": true, "braze_id": true, "user_alias": true,
	"_update_existing_only": true, "_merge_objects": true,
}

// validateAttributeName enforces Braze's attribute-name rules: non-empty,
// valid UTF-8, at most 255 characters, no leading '$'. Names are
// case-sensitive and kept exactly as written.
func validateAttributeName(name string) error {
	switch {
	case name == "":
		return errors.New("attribute name is empty")
	case !utf8.ValidString(name):
		return errors.New("attribute name is not valid UTF-8")
	case charCount(name) > MaxStringChars:
		return fmt.Errorf("attribute name longer than %d characters", MaxStringChars)
	case strings.HasPrefix(name, "$"):
		return fmt.Errorf("attribute name %q starts with '$'", name)
	}
	return nil
}

// NewMapping resolves how the columns of sc map to Braze attributes under
// cfg. Every problem it reports names the column, so a bad table fails
// before anything is sent.
func NewMapping(sc *arrow.Schema, cfg Config) (*Mapping, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid mapping config: %w", err)
	}
	m := &Mapping{schema: sc, cfg: cfg, keyCol: -1, rejectCol: -1, keyName: cfg.UserKey}
	if err := m.findRejectColumn(); err != nil {
		return nil, err
	}
	r := resolver{m: m, sc: sc, entries: make([][]ColumnMapping, sc.NumFields())}
	if err := r.resolve(); err != nil {
		return nil, err
	}
	if err := m.checkTypes(); err != nil {
		return nil, err
	}
	return m, nil
}

// findRejectColumn locates the source's ColumnRejected, which must have
// RejectedType: a user column of that name would otherwise be silently
// treated as a verdict on every row.
func (m *Mapping) findRejectColumn() error {
	idx := m.schema.FieldIndices(ColumnRejected)
	switch {
	case len(idx) == 0:
		return nil
	case len(idx) > 1 || !arrow.TypeEqual(m.schema.Field(idx[0]).Type, RejectedType):
		return fmt.Errorf("column %q is reserved for rows the source could not read and must be one %s column", ColumnRejected, RejectedType)
	}
	m.rejectCol = idx[0]
	return nil
}

// KeyColumn returns the name of the user key column.
func (m *Mapping) KeyColumn() string { return m.schema.Field(m.keyCol).Name }

// UserKey returns the identifier the key column holds (external_id, …).
func (m *Mapping) UserKey() string { return m.keyName }

// Schema returns the schema the mapping was resolved for.
func (m *Mapping) Schema() *arrow.Schema { return m.schema }

// Columns describes every column of the schema, in schema order.
func (m *Mapping) Columns() []ColumnMapping {
	return append([]ColumnMapping(nil), m.columns...)
}

// Attributes returns the mapped attribute names in output order (the
// identifier is not included).
func (m *Mapping) Attributes() []string {
	out := make([]string, len(m.fields))
	for i, f := range m.fields {
		out[i] = f.attr
	}
	return out
}

// HasAttribute reports whether name is a mapped attribute, so callers can
// refuse members of their own (e.g. looker_export) that would collide.
func (m *Mapping) HasAttribute(name string) bool {
	for _, f := range m.fields {
		if f.attr == name {
			return true
		}
	}
	return false
}

// resolver holds the state of one NewMapping call.
type resolver struct {
	m       *Mapping
	sc      *arrow.Schema
	entries [][]ColumnMapping // per column
	specCol map[int]bool      // columns named in the spec's attributes map
	byAttr  map[string]claim  // attribute -> who mapped it
}

type claim struct {
	col    int
	source string
}

func (r *resolver) name(i int) string { return r.sc.Field(i).Name }

// findColumn looks a spec column name up: exact match first, else a unique
// case-insensitive match (Snowflake upper-cases unquoted names).
func (r *resolver) findColumn(field, name string) (int, error) {
	if idx := r.sc.FieldIndices(name); len(idx) == 1 {
		return idx[0], nil
	} else if len(idx) > 1 {
		return -1, fmt.Errorf("%s: column %q appears %d times in the table", field, name, len(idx))
	}
	found := -1
	for i, f := range r.sc.Fields() {
		if strings.EqualFold(f.Name, name) {
			if found >= 0 {
				return -1, fmt.Errorf("%s: column %q matches both %q and %q (names differ only in case)", field, name, r.name(found), f.Name)
			}
			found = i
		}
	}
	if found < 0 {
		return -1, fmt.Errorf("%s: column %q not found in the table", field, name)
	}
	return found, nil
}

func (r *resolver) resolve() error {
	if err := r.resolveKey(); err != nil {
		return keyError{err}
	}
	if err := r.resolveAttributes(); err != nil {
		return err
	}
	r.finish()
	return nil
}

func (r *resolver) setKey(col int, source string) {
	r.m.keyCol = col
	r.entries[col] = append(r.entries[col], ColumnMapping{Column: r.name(col), Attribute: r.m.keyName, Source: source, Key: true})
}

// resolveKey finds the key column by precedence: spec, tag, name.
func (r *resolver) resolveKey() error {
	if c := r.m.cfg.KeyColumn; c != "" {
		col, err := r.findColumn("key_column", c)
		if err != nil {
			return err
		}
		r.setKey(col, SourceSpec)
		return nil
	}
	tagged := r.matching(func(i int) bool { return hasTag(r.sc.Field(i), TagKey) })
	if len(tagged) > 1 {
		return fmt.Errorf("two key columns: %q and %q are both tagged %s", r.name(tagged[0]), r.name(tagged[1]), TagKey)
	}
	if len(tagged) == 1 {
		r.setKey(tagged[0], SourceTag)
		return nil
	}
	want := r.m.keyName
	if want == UserKeyUserAlias {
		want = "alias_name"
	}
	named := r.matching(func(i int) bool { return strings.EqualFold(r.name(i), want) })
	if len(named) > 1 {
		return fmt.Errorf("two key columns: %q and %q both match user_key %s", r.name(named[0]), r.name(named[1]), r.m.keyName)
	}
	if len(named) == 1 {
		r.setKey(named[0], SourceKey)
		return nil
	}
	return fmt.Errorf("no key column: set key_column, tag a column %s, or name a column %s", TagKey, want)
}

// matching lists the non-internal columns for which pred holds.
func (r *resolver) matching(pred func(int) bool) []int {
	var out []int
	for i := range r.sc.Fields() {
		if !isInternalColumn(r.name(i)) && pred(i) {
			out = append(out, i)
		}
	}
	return out
}

func hasTag(f arrow.Field, tag string) bool {
	for _, t := range FieldTags(f) {
		if t == tag {
			return true
		}
	}
	return false
}

// resolveAttributes maps attributes level by level: spec, tags, names.
func (r *resolver) resolveAttributes() error {
	r.byAttr = map[string]claim{}
	r.specCol = map[int]bool{}
	if err := r.specAttributes(); err != nil {
		return err
	}
	for i, f := range r.sc.Fields() {
		if isInternalColumn(f.Name) || r.specCol[i] {
			continue
		}
		for _, t := range FieldTags(f) {
			if attr, ok := parseAttrTag(t); ok {
				if err := r.claim(i, attr, SourceTag); err != nil {
					return err
				}
			}
		}
	}
	for i, f := range r.sc.Fields() {
		if isInternalColumn(f.Name) || r.specCol[i] || hasAttrTag(f) {
			continue
		}
		if attr, ok := parseAttrTag(f.Name); ok {
			if err := r.claim(i, attr, SourceName); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasAttrTag(f arrow.Field) bool {
	for _, t := range FieldTags(f) {
		if _, ok := parseAttrTag(t); ok {
			return true
		}
	}
	return false
}

func (r *resolver) specAttributes() error {
	cols := make([]string, 0, len(r.m.cfg.Attributes))
	for c := range r.m.cfg.Attributes {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		col, err := r.findColumn("attributes", c)
		if err != nil {
			return err
		}
		r.specCol[col] = true
		if err := r.claim(col, r.m.cfg.Attributes[c], SourceSpec); err != nil {
			return err
		}
	}
	return nil
}

// claim maps column col to attr at the given level, applying precedence.
func (r *resolver) claim(col int, attr, source string) error {
	name := r.name(col)
	if err := validateAttributeName(attr); err != nil {
		return fmt.Errorf("column %q: %w", name, err)
	}
	if reservedAttributes[attr] || attr == r.m.keyName {
		return fmt.Errorf("column %q: attribute %q is reserved for the user key and request flags", name, attr)
	}
	if prev, ok := r.byAttr[attr]; ok {
		if prev.col == col {
			return nil // the same tag twice on one column
		}
		if prev.source == source {
			return fmt.Errorf("two columns for attribute %q: %q and %q", attr, r.name(prev.col), name)
		}
		r.entries[col] = append(r.entries[col], ColumnMapping{Column: name, Attribute: attr, Source: source,
			Ignored: fmt.Sprintf("attribute %q already mapped from column %q by %s", attr, r.name(prev.col), prev.source)})
		return nil
	}
	r.byAttr[attr] = claim{col: col, source: source}
	r.entries[col] = append(r.entries[col], ColumnMapping{Column: name, Attribute: attr, Source: source})
	r.m.fields = append(r.m.fields, outField{col: col, attr: attr, std: standardFields[attr]})
	return nil
}

// finish orders the output fields by column, then records ignored columns.
func (r *resolver) finish() {
	sort.SliceStable(r.m.fields, func(a, b int) bool { return r.m.fields[a].col < r.m.fields[b].col })
	for i, f := range r.sc.Fields() {
		es := r.entries[i]
		if len(es) == 0 {
			reason := "no braze tag"
			switch {
			case i == r.m.rejectCol:
				reason = "rows the source could not read (dead-lettered)"
			case isInternalColumn(f.Name):
				reason = "_cq_ internal column"
			}
			es = []ColumnMapping{{Column: f.Name, Ignored: reason}}
		}
		r.m.columns = append(r.m.columns, es...)
	}
}

// checkTypes builds every writer once so unsupported types fail here,
// naming the column, rather than on the first row.
func (m *Mapping) checkTypes() error {
	kf := m.schema.Field(m.keyCol)
	if _, err := newKeyReader(kf.Type); err != nil {
		return fmt.Errorf("key column %q: %w", kf.Name, err)
	}
	for _, f := range m.fields {
		if _, err := m.newFieldWriter(f, new(int)); err != nil {
			return fmt.Errorf("column %q (attribute %q): %w", m.schema.Field(f.col).Name, f.attr, err)
		}
	}
	return nil
}

// newFieldWriter builds the writer of one attribute; the writers count the
// nulls they leave out in *nulls.
func (m *Mapping) newFieldWriter(f outField, nulls *int) (valueWriter, error) {
	dt := m.schema.Field(f.col).Type
	o := writerOpts{place: placeTop, truncate: m.cfg.LongStrings == LongStringsTruncate, nulls: nulls}
	if f.std != stdNone {
		return newStandardWriter(f.std, dt, o)
	}
	w, err := newWriter(dt, o)
	if err != nil {
		return nil, err
	}
	if isObjectType(dt) {
		w = sizeLimited{w}
	}
	return w, nil
}

// ErrKeyColumn matches (errors.Is) every NewMapping error about the user key column: none found,
// two found, or a key_column that names no column.
var ErrKeyColumn = errors.New("key column error")

// keyError marks a key-column error without changing its message.
type keyError struct{ error }

func (e keyError) Is(target error) bool { return target == ErrKeyColumn }
func (e keyError) Unwrap() error        { return e.error }
