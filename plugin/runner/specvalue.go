package runner

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// A plugin's `spec:` block is read by specValue rather than by yaml.v3's decoder: yaml.v3 checks
// every mapping for duplicate keys by comparing each key with every other, so a destination's
// attributes map of 160,000 entries took minutes to load. specValue builds the same values (maps
// of string keys, slices, the scalars yaml.v3 resolves) in one pass, and finds duplicates with a
// set, naming the key and both lines as yaml.v3 does.

// splitSpec returns the value node of n's "spec" member and a copy of n without that member.
func splitSpec(n *yaml.Node) (spec, rest *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return nil, n
	}
	cp := *n
	cp.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "spec" && spec == nil {
			spec = n.Content[i+1]
			continue
		}
		cp.Content = append(cp.Content, n.Content[i], n.Content[i+1])
	}
	return spec, &cp
}

// specMap reads a `spec:` block, which must be a mapping (or empty).
func specMap(n *yaml.Node) (map[string]any, error) {
	v, err := specValue(n, 0)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	}
	return nil, fmt.Errorf("spec: line %d: must be a mapping of fields", n.Line)
}

// maxSpecDepth bounds nesting (aliases could otherwise loop).
const maxSpecDepth = 100

func specValue(n *yaml.Node, depth int) (any, error) {
	if depth > maxSpecDepth {
		return nil, fmt.Errorf("line %d: nested more than %d levels", n.Line, maxSpecDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return specValue(n.Content[0], depth+1)
	case yaml.AliasNode:
		return specValue(n.Alias, depth+1)
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := specValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.MappingNode:
		return specMapping(n, depth)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func specMapping(n *yaml.Node, depth int) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	lines := make(map[string]int, len(n.Content)/2)
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a mapping key must be a plain value", k.Line)
		}
		if k.Tag == "!!merge" {
			merged = append(merged, v)
			continue
		}
		if prev, dup := lines[k.Value]; dup {
			return nil, fmt.Errorf("line %d: mapping key %q already defined at line %d", k.Line, k.Value, prev)
		}
		lines[k.Value] = k.Line
		val, err := specValue(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	return out, mergeInto(out, merged, depth)
}

// mergeInto applies YAML merge keys (<<: *anchor, or a list of them): their members fill in what
// the mapping does not set itself.
func mergeInto(out map[string]any, merged []*yaml.Node, depth int) error {
	for _, m := range merged {
		v, err := specValue(m, depth+1)
		if err != nil {
			return err
		}
		sources := []any{v}
		if list, ok := v.([]any); ok {
			sources = list
		}
		for _, src := range sources {
			sm, ok := src.(map[string]any)
			if !ok {
				return fmt.Errorf("line %d: a merge key (<<) takes a mapping or a list of mappings", m.Line)
			}
			for k, val := range sm {
				if _, set := out[k]; !set {
					out[k] = val
				}
			}
		}
	}
	return nil
}
