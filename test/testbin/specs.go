package testbin

import (
	"fmt"
	"strings"
)

// BrazeDestination is the `kind: destination` document the end-to-end tests and benchmarks share:
// braze-destination from {{BIN}}, the key and endpoint from $BRAZE_API_KEY and $BRAZE_ENDPOINT,
// users created (the emulators start empty), dead letters in dead.jsonl. Each extra line is added
// to the destination's spec (e.g. "rate_limit: -1").
func BrazeDestination(exportValue string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `kind: destination
spec:
  name: braze
  path: {{BIN}}/braze-destination
  registry: local
  write_mode: append
  spec:
    api_key: "${BRAZE_API_KEY}"
    endpoint: "${BRAZE_ENDPOINT}"
    update_existing_only: false
    export_value: %s
    dead_letter_file: dead.jsonl
`, exportValue)
	for _, l := range extra {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	return b.String()
}

// FileSource is a `kind: source` document reading one file into the braze destination; each extra
// line is added to the file source's spec.
func FileSource(path string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `kind: source
spec:
  name: files
  path: {{BIN}}/file-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    files:
      - path: %s
`, path)
	for _, l := range extra {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	return b.String()
}

// Spec joins documents into one spec file.
func Spec(docs ...string) string { return strings.Join(docs, "---\n") }
