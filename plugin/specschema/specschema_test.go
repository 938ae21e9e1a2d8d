package specschema

import (
	"encoding/json"
	"strings"
	"testing"
)

type inner struct {
	Depth int    `json:"depth,omitempty"`
	Label string `json:"label,omitempty"`
}

type embedded struct {
	Mode string `json:"mode,omitempty"`
}

type toySpec struct {
	Name    string `json:"name"`
	Retries int    `json:"retries,omitempty" jsonschema:"minimum=1"`
	Enabled *bool  `json:"enabled,omitempty"`
	Auth    string `json:"auth,omitempty"`
	Nested  *inner `json:"nested,omitempty"`
	embedded
}

func (s *toySpec) SetDefaults() {
	if s.Retries == 0 {
		s.Retries = 5
	}
	if s.Enabled == nil {
		v := false // a default equal to the type's zero value is still a default: the field was unset
		s.Enabled = &v
	}
	if s.Auth == "" {
		s.Auth = "password" // stands for a default derived from other fields
	}
	if s.Nested == nil {
		s.Nested = &inner{}
	}
	if s.Nested.Depth == 0 {
		s.Nested.Depth = 3
	}
	if s.Mode == "" {
		s.Mode = "fast"
	}
}

type taggedSpec struct {
	Retries int `json:"retries,omitempty" jsonschema:"default=5"`
}

func (s *taggedSpec) SetDefaults() {}

// schemaOf decodes a generated schema as plain JSON, to read it independently of the generator.
func schemaOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("schema is not JSON: %v\n%s", err, s)
	}
	return m
}

func prop(t *testing.T, s map[string]any, path ...string) map[string]any {
	t.Helper()
	for _, p := range path {
		props, _ := s["properties"].(map[string]any)
		next, ok := props[p].(map[string]any)
		if !ok {
			t.Fatalf("no property %s in %v", p, s)
		}
		s = next
	}
	return s
}

func TestGenerateFillsDefaultsFromSetDefaults(t *testing.T) {
	s := schemaOf(t, MustGenerate[toySpec](DerivedDefaults("auth")))
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"retries"}, 5.0},
		{[]string{"enabled"}, false},
		{[]string{"nested", "depth"}, 3.0},
		{[]string{"mode"}, "fast"}, // embedded structs are inlined, as encoding/json does
	} {
		if got, ok := prop(t, s, c.path...)["default"]; !ok || got != c.want {
			t.Errorf("%v: default %v (set %v), want %v", c.path, got, ok, c.want)
		}
	}
	for _, path := range [][]string{{"name"}, {"auth"}, {"nested", "label"}} {
		if got, ok := prop(t, s, path...)["default"]; ok {
			t.Errorf("%v: default %v, want none", path, got)
		}
	}
	if got := prop(t, s, "retries")["minimum"]; got != 1.0 {
		t.Errorf("retries: minimum %v, want the tag's 1", got)
	}
	if req, _ := s["required"].([]any); len(req) != 1 || req[0] != "name" {
		t.Errorf("required %v, want [name] (the field without omitempty)", req)
	}
	if s["additionalProperties"] != false {
		t.Errorf("unknown fields are not refused: additionalProperties %v", s["additionalProperties"])
	}
}

func TestGenerateStatesDerivedDefaultsOnlyWhenAsked(t *testing.T) {
	s := schemaOf(t, MustGenerate[toySpec]())
	if got := prop(t, s, "auth")["default"]; got != "password" {
		t.Errorf("auth: default %v, want password", got)
	}
	if _, err := Generate[toySpec](DerivedDefaults("no_such_field")); err == nil || !strings.Contains(err.Error(), "no_such_field") {
		t.Errorf("a derived default naming no property: err %v", err)
	}
}

func TestGenerateRefusesTagDefaults(t *testing.T) {
	_, err := Generate[taggedSpec]()
	if err == nil || !strings.Contains(err.Error(), "retries") {
		t.Fatalf("a default in a jsonschema tag: err %v, want one naming retries", err)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("MustGenerate did not panic")
		}
	}()
	MustGenerate[taggedSpec]()
}
