package gen

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/invopop/jsonschema"
)

// registered parses the JSON schema a plugin registers with plugin-sdk.
func registered(pluginSchema func() string) func() (*jsonschema.Schema, error) {
	return func() (*jsonschema.Schema, error) {
		var s jsonschema.Schema
		if err := json.Unmarshal([]byte(pluginSchema()), &s); err != nil {
			return nil, fmt.Errorf("parsing the plugin's JSON schema: %w", err)
		}
		if s.Properties == nil {
			return nil, fmt.Errorf("the plugin registers no JSON schema with properties")
		}
		return &s, nil
	}
}

// documentSchema reflects a runner document struct by its yaml tags. The runner is no plugin and
// serves no schema; this only gives its fields the same rendering.
func documentSchema(v any) func() (*jsonschema.Schema, error) {
	return func() (*jsonschema.Schema, error) {
		r := jsonschema.Reflector{FieldNameTag: "yaml", RequiredFromJSONSchemaTags: true, DoNotReference: true, Anonymous: true}
		return r.Reflect(v), nil
	}
}

// typeName renders a property's type for a reader: "list of string", "map of string → string".
func typeName(s *jsonschema.Schema) string {
	if s == nil {
		return "value"
	}
	if len(s.OneOf) > 0 {
		alt := make([]string, len(s.OneOf))
		for i, o := range s.OneOf {
			alt[i] = typeName(o)
		}
		return strings.Join(alt, " or ")
	}
	switch s.Type {
	case "array":
		return "list of " + typeName(s.Items)
	case "object":
		if s.Properties == nil && s.AdditionalProperties != nil && s.AdditionalProperties.Type != "" {
			return "map of string → " + typeName(s.AdditionalProperties)
		}
		return "object"
	case "":
		return "value"
	}
	return s.Type
}

// Suffixes of the field names in a nested table: those of an object, of each entry of a list, and
// of each value of a map.
const (
	objectFields = "."
	listFields   = "[]."
	mapFields    = ".<name>."
)

// objectOf returns the object schema a property holds itself, in each list entry or in each map
// value, and the suffix of the names of its fields; properties holding one get a table of their own.
func objectOf(s *jsonschema.Schema) (*jsonschema.Schema, string) {
	switch {
	case s.Properties != nil:
		return s, objectFields
	case s.Type == "array" && s.Items != nil && s.Items.Properties != nil:
		return s.Items, listFields
	case s.Type == "object" && s.AdditionalProperties != nil && s.AdditionalProperties.Properties != nil:
		return s.AdditionalProperties, mapFields
	}
	return nil, ""
}

// requirement renders whether a property is required, its default, enum and bounds.
func requirement(s *jsonschema.Schema, required bool) string {
	var parts []string
	if required {
		parts = append(parts, "**required**")
	}
	if s.Default != nil {
		parts = append(parts, "default `"+literal(s.Default)+"`")
	}
	if len(s.Enum) > 0 {
		enum := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			enum[i] = "`" + literal(v) + "`"
		}
		parts = append(parts, "one of "+strings.Join(enum, ", "))
	}
	if s.Minimum != "" {
		parts = append(parts, "min "+string(s.Minimum))
	}
	if s.Maximum != "" {
		parts = append(parts, "max "+string(s.Maximum))
	}
	if len(parts) == 0 {
		return "optional"
	}
	return strings.Join(parts, "; ")
}

// literal renders a JSON value as a spec author writes it: strings without quotes.
func literal(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
