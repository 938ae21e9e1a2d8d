package check

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/schema"
)

// pivotSeparator joins a pivoted Looker field and its pivot key in a column name
// (source/looker.PivotSeparator; not imported so check does not depend on the Looker source).
const pivotSeparator = "|"

// checkTable maps one table as the destination will, and reports key, attributes, names and pivots.
func checkTable(r *Result, prefix string, t *table, plugin string, ds *destination.Spec) {
	if plugin == "looker" {
		checkPivots(r, prefix, t)
	}
	if checkEventTable(r, prefix, t, ds) { // events and purchases (events.go)
		return
	}
	m, err := schema.NewMapping(t.schema, ds.Config)
	keyLine, attrLine, namesLine := prefix+": key column", prefix+": attributes", prefix+": attribute names"
	if err != nil && isKeyError(err) {
		r.add(Fail, keyLine, oneLine(err), keyFix(ds))
		r.add(Skip, attrLine, "not mapped: no single key column", "")
		r.add(Skip, namesLine, "not mapped: no single key column", "")
		return
	}
	if err != nil {
		r.add(Pass, keyLine, "exactly one key column", "")
		r.add(Fail, attrLine, oneLine(err), "give each attribute one column: remove or rename one of the columns named, "+
			"or map it explicitly with attributes: {COLUMN: attr} in the destination spec")
		r.add(Skip, namesLine, "not mapped", "")
		return
	}
	r.add(Pass, keyLine, fmt.Sprintf("%s holds %s%s", m.KeyColumn(), m.UserKey(), keySource(m)), "")
	reportAttributes(r, attrLine, t, m, ds)
	reportNames(r, namesLine, m, ds)
}

func keySource(m *schema.Mapping) string {
	for _, c := range m.Columns() {
		if c.Key {
			return map[string]string{schema.SourceSpec: " (key_column)", schema.SourceTag: " (tag braze_id)",
				schema.SourceKey: " (named like user_key)"}[c.Source]
		}
	}
	return ""
}

// isKeyError tells the mapper's key errors (resolved first) from its attribute errors.
func isKeyError(err error) bool { return errors.Is(err, schema.ErrKeyColumn) }

func keyFix(ds *destination.Spec) string {
	want := ds.UserKey
	if want == schema.UserKeyUserAlias {
		want = "alias_name"
	}
	return fmt.Sprintf("exactly one column must hold the user key: tag it braze_id (LookML tags, or tags: in the file source), "+
		"name it %s (Snowflake: AS %s), or set key_column in the destination spec; remove the braze_id tag from all other columns", want, strings.ToUpper(want))
}

// reportAttributes lists what is sent and what is not, and why.
func reportAttributes(r *Result, line string, t *table, m *schema.Mapping, ds *destination.Spec) {
	var mapped, ignored, shadowed []string
	for _, c := range m.Columns() {
		switch {
		case c.Key:
		case c.Ignored == "":
			mapped = append(mapped, attrDesc(c))
		case strings.HasPrefix(c.Ignored, "attribute "):
			shadowed = append(shadowed, fmt.Sprintf("%s (%s)", c.Column, c.Ignored))
		case strings.HasPrefix(c.Column, "_cq_"):
		default:
			ignored = append(ignored, c.Column)
		}
	}
	detail := fmt.Sprintf("%d mapped", len(mapped))
	if len(mapped) > 0 {
		detail += ": " + strings.Join(mapped, ", ")
	}
	if len(ignored) > 0 {
		detail += fmt.Sprintf("; ignored (no braze tag): %s", strings.Join(ignored, ", "))
	}
	if t.empty {
		detail += "; the table has no rows, so column tags could not be read"
	}
	switch {
	case len(shadowed) > 0:
		r.add(Warn, line, detail+"; ambiguous: "+strings.Join(shadowed, "; "),
			"drop the lower-precedence tag or column so each attribute has one source (precedence: spec, tag, column name)")
	case len(mapped) == 0 && *ds.ExportAttribute == "":
		r.add(Fail, line, detail, "tag columns braze[attr], name them braze[attr], or map them with attributes: {COLUMN: attr}; "+
			"with export_attribute empty there is nothing to send")
	case len(mapped) == 0:
		r.add(Warn, line, detail+fmt.Sprintf("; only the %s flag will be sent", *ds.ExportAttribute),
			"tag the columns to send braze[attr] if attributes were meant to go too")
	default:
		r.add(Pass, line, detail, "")
	}
}

func attrDesc(c schema.ColumnMapping) string {
	if c.Column == c.Attribute || c.Column == "braze["+c.Attribute+"]" {
		return c.Attribute
	}
	return c.Attribute + "<-" + c.Column
}

// reportNames recognises standard fields and flags names that look like a standard field but are
// not one (Braze names are case-sensitive: First_Name is a new custom attribute).
func reportNames(r *Result, line string, m *schema.Mapping, ds *destination.Spec) {
	var std, custom, nearMiss []string
	for _, a := range m.Attributes() {
		if isStandard(a) {
			std = append(std, a)
			continue
		}
		custom = append(custom, a)
		if s := lookalike(a); s != "" {
			nearMiss = append(nearMiss, fmt.Sprintf("%s (did you mean %s?)", a, s))
		}
	}
	if exp := *ds.ExportAttribute; exp != "" && m.HasAttribute(exp) {
		r.add(Fail, line, fmt.Sprintf("a column is mapped to %s, the export_attribute flag", exp),
			"rename that attribute, or set export_attribute to another name")
		return
	}
	detail := fmt.Sprintf("standard: %s; custom: %s", listOrNone(std), listOrNone(custom))
	if len(nearMiss) > 0 {
		r.add(Warn, line, detail+"; "+strings.Join(nearMiss, ", ")+" would be custom attributes",
			"use the standard field's exact lower-case name if the standard field was meant")
		return
	}
	r.add(Pass, line, detail, "")
}

func isStandard(a string) bool { return schema.IsStandardField(a) }

// lookalike returns the standard field a custom name probably meant: same letters ignoring case,
// spaces, dashes and underscores ("First Name", "firstName", "E-mail").
func lookalike(a string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "", ".", "").Replace(strings.ToLower(s))
	}
	for _, s := range schema.StandardFields() {
		if norm(a) == norm(s) {
			return s
		}
	}
	return ""
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// checkPivots fails a Looker table whose columns come from a pivot: field|key columns hold one
// value per pivot key, which cannot be one attribute per user.
func checkPivots(r *Result, prefix string, t *table) {
	var pivoted []string
	for _, f := range t.schema.Fields() {
		if strings.Contains(f.Name, pivotSeparator) {
			pivoted = append(pivoted, f.Name)
		}
	}
	if len(pivoted) == 0 {
		r.add(Pass, prefix+": pivots", "no pivoted columns", "")
		return
	}
	r.add(Fail, prefix+": pivots", fmt.Sprintf("the Look is pivoted: columns %s are one value per pivot key and are not sent", strings.Join(pivoted, ", ")), pivotFix)
}
