package schema

import (
	"encoding/json"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
)

// MetadataTags is the Arrow field-metadata key under which a column's tags
// travel. Its value is a JSON array of strings, e.g. ["braze[first_name]"]
// (Looker LookML tags verbatim).
const MetadataTags = "brazesync:tags"

// TagKey is the Looker tag that marks the user key column.
const TagKey = "braze_id"

// FieldWithTags returns a copy of f whose metadata carries tags under
// MetadataTags, replacing any tags it had. Other metadata is kept.
func FieldWithTags(f arrow.Field, tags ...string) arrow.Field {
	if tags == nil {
		tags = []string{}
	}
	raw, err := json.Marshal(tags)
	if err != nil { // cannot happen for a []string
		panic(err)
	}
	keys := []string{MetadataTags}
	vals := []string{string(raw)}
	for i, k := range f.Metadata.Keys() {
		if k == MetadataTags {
			continue
		}
		keys = append(keys, k)
		vals = append(vals, f.Metadata.Values()[i])
	}
	f.Metadata = arrow.NewMetadata(keys, vals)
	return f
}

// FieldTags returns the tags stored in f's metadata, or nil when there are
// none or the value is not a JSON array of strings.
func FieldTags(f arrow.Field) []string {
	i := f.Metadata.FindKey(MetadataTags)
	if i < 0 {
		return nil
	}
	var tags []string
	if err := json.Unmarshal([]byte(f.Metadata.Values()[i]), &tags); err != nil {
		return nil
	}
	return tags
}

// parseAttrTag reports the attribute named by a tag or column name of the
// exact form "braze[attr]". Matching is anchored and case-sensitive, unlike
// the stock Looker action's unanchored, case-insensitive regex: "xbraze[a]",
// "BRAZE[a]" and "braze[a" do not match. The attribute text is returned as
// written (it may still be invalid; callers validate it).
func parseAttrTag(s string) (string, bool) {
	if !strings.HasPrefix(s, "braze[") || !strings.HasSuffix(s, "]") || len(s) < len("braze[]") {
		return "", false
	}
	attr := s[len("braze[") : len(s)-1]
	if strings.ContainsAny(attr, "[]") {
		return "", false // braze[a]b] or braze[[a]]: not the form, not a guess at what was meant
	}
	return attr, true
}
