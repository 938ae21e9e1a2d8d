package file

import (
	"fmt"
	"sort"
	"strings"

	"github.com/brazesync/brazesync/schema"
)

// Pinned types: `types: {COLUMN: TYPE}` in a file's spec gives a column its type instead of
// inferring it, and a column tagged braze_id (the user key) is always read as text: an ID is text
// whatever it looks like ("1e5", "0012"). A value that does not fit its pinned type makes its row
// a dead letter naming the column.

// pinnedTypes are the names types: accepts, and their kinds.
var pinnedTypes = map[string]kind{
	"string": kindString, "integer": kindInt, "float": kindFloat, "number": kindNumber,
	"boolean": kindBool, "date": kindDate, "timestamp": kindTimestamp, "json": kindJSON,
}

func pinnedTypeNames() string {
	names := make([]string, 0, len(pinnedTypes))
	for n := range pinnedTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// newColumn starts a column, pinned when the spec says so.
func (f FileSpec) newColumn(name string) column {
	c := column{name: name, widenedAt: -1}
	if t, ok := f.Types[name]; ok {
		c.pin = pinnedTypes[t]
	} else if hasTag(f.Tags[name], schema.TagKey) {
		c.pin = kindString
	}
	return c
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

// checkPins refuses types: naming a column the file does not have.
func (f FileSpec) checkPins(names []string) error {
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var missing []string
	for col := range f.Types {
		if !have[col] {
			missing = append(missing, col)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return configError(fmt.Errorf("files: %s: types: column %q is not in the file", f.Path, missing[0]))
}

// applyPins gives pinned columns their kinds once the first pass is over.
func (p *plan) applyPins() {
	for i := range p.cols {
		if c := &p.cols[i]; c.pin != kindNull {
			c.kind, c.widenedAt = c.pin, -1
		}
	}
}

func (c *column) pinReason() string {
	return fmt.Sprintf("value is not %s (the spec's types: pins the column)", c.pin)
}

// fits reports whether text fits kind k.
func fits(k kind, s string) bool {
	switch k {
	case kindString:
		return true
	case kindBool:
		return isBoolText(s)
	case kindDate:
		_, ok := parseDate(s)
		return ok
	case kindTimestamp:
		_, ok := parseTimestamp(s)
		_, isDate := parseDate(s)
		return ok || isDate
	case kindInt, kindFloat, kindNumber:
		n, ok := numberKind(s)
		return ok && n <= k
	}
	return false // json: CSV text is not JSON
}

// fitsJSON reports whether a raw JSON value fits kind k: a string column takes strings and
// numbers (as written), a json column anything.
func fitsJSON(k kind, raw []byte) bool {
	switch c := raw[0]; {
	case k == kindJSON || c == 'n':
		return true
	case c == '"':
		return k >= kindDate && k <= kindString && fits(k, string(unquote(raw)))
	case c == 't' || c == 'f':
		return k == kindBool
	case c == '[' || c == '{':
		return k == kindStrings && c == '[' && stringArray(raw)
	}
	return k == kindString || fits(k, string(raw)) && k != kindBool
}
