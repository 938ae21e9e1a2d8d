// Package specschema builds the JSON schema of a plugin's spec from its Go struct. Each plugin
// registers the result with plugin-sdk (plugin.WithJSONSchema), so `cloudquery sync` checks specs
// against it, and docs/gen renders docs/configuration.md from the same registered string.
//
// Types, required fields (no `omitempty`) and refusal of unknown fields come from the struct and its
// json tags; bounds and enums from `jsonschema` tags or a JSONSchemaExtend method. Defaults are
// stated once, in the spec's SetDefaults: a property's "default" is the value SetDefaults puts into a
// zero spec. A `jsonschema:"default=…"` tag is refused, so a tag and the code can never disagree.
package specschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
)

// Defaulter is a pointer to a spec struct whose SetDefaults fills every unset field.
type Defaulter[T any] interface {
	*T
	SetDefaults()
}

// Option changes how Generate fills defaults.
type Option func(*options)

type options struct{ derived map[string]bool }

// DerivedDefaults names top-level properties whose default SetDefaults derives from other fields
// (e.g. an authenticator that follows the credential given). One static "default" would be wrong
// for them, so they get none.
func DerivedDefaults(names ...string) Option {
	return func(o *options) {
		for _, n := range names {
			o.derived[n] = true
		}
	}
}

// Generate returns the JSON schema (draft 2020-12) of spec struct T.
func Generate[T any, P Defaulter[T]](opts ...Option) (string, error) {
	o := options{derived: map[string]bool{}}
	for _, opt := range opts {
		opt(&o)
	}
	r := jsonschema.Reflector{Anonymous: true, DoNotReference: true}
	s := r.Reflect(new(T))
	if err := refuseTagDefaults(s, ""); err != nil {
		return "", err
	}
	for n := range o.derived {
		if _, ok := s.Properties.Get(n); !ok {
			return "", fmt.Errorf("derived default %q: no such property", n)
		}
	}
	zero, err := asJSONValue(new(T))
	if err != nil {
		return "", err
	}
	filled := P(new(T))
	filled.SetDefaults()
	def, err := asJSONValue(filled)
	if err != nil {
		return "", err
	}
	fillDefaults(s, zero, def, o.derived)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding schema: %w", err)
	}
	return string(b), nil
}

// MustGenerate is Generate for plugin constructors, where a schema that cannot be built is a
// programmer error (plugin-sdk panics on a schema that does not compile, too).
func MustGenerate[T any, P Defaulter[T]](opts ...Option) string {
	s, err := Generate[T, P](opts...)
	if err != nil {
		panic(fmt.Errorf("generating the spec's JSON schema: %w", err))
	}
	return s
}

// refuseTagDefaults fails on any default that came from a struct tag: SetDefaults states them.
func refuseTagDefaults(s *jsonschema.Schema, path string) error {
	if s == nil {
		return nil
	}
	if s.Default != nil {
		return fmt.Errorf("property %s: its default is in a jsonschema tag; state it in SetDefaults only", path)
	}
	var errs []error
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			errs = append(errs, refuseTagDefaults(p.Value, join(path, p.Key)))
		}
	}
	errs = append(errs, refuseTagDefaults(s.Items, path+"[]"))
	for _, sub := range s.OneOf {
		errs = append(errs, refuseTagDefaults(sub, path))
	}
	return errors.Join(errs...)
}

// fillDefaults sets "default" on each property whose value SetDefaults changed, recursing into
// nested objects so a defaulted sub-struct states its fields one by one.
func fillDefaults(s *jsonschema.Schema, zero, def map[string]any, derived map[string]bool) {
	if s.Properties == nil {
		return
	}
	for p := s.Properties.Oldest(); p != nil; p = p.Next() {
		dv, ok := def[p.Key]
		if !ok || derived[p.Key] || reflect.DeepEqual(zero[p.Key], dv) {
			continue
		}
		if sub, isObj := dv.(map[string]any); isObj && p.Value.Properties != nil {
			zsub, _ := zero[p.Key].(map[string]any)
			fillDefaults(p.Value, zsub, sub, nil)
			continue
		}
		p.Value.Default = dv
	}
}

// asJSONValue is v as encoding/json sees it, numbers kept exact.
func asJSONValue(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding spec: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding spec: %w", err)
	}
	return m, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
