package destination

import "fmt"

// StateFolder returns the state folder a destination spec (its `spec:` block as JSON) keeps its
// state in, and whether it keeps any (diff: false keeps none). brazesync state show and reset use
// it to find the folder a sync would use.
func StateFolder(specJSON []byte) (dir string, kept bool, err error) {
	s, err := ParseSpec(specJSON)
	if err != nil {
		return "", false, fmt.Errorf("reading the destination spec: %w", err)
	}
	return s.StateDir, *s.Diff, nil
}
