package e2e

import (
	"testing"

	"github.com/brazesync/brazesync/test/testbin"
)

// syncSpec runs `brazesync sync` on spec through testbin.Sync.
func syncSpec(t *testing.T, spec string, env map[string]string, extraArgs ...string) testbin.Result {
	t.Helper()
	return testbin.Sync(t, spec, testbin.SyncOptions{Env: env, Args: extraArgs})
}

// destinationSpec is a file source into one Braze destination; %s slots: file, destination spec extras.
const fileToBraze = `
kind: source
spec:
  name: files
  path: {{BIN}}/file-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    files:
      - path: %s
---
kind: destination
spec:
  name: braze
  path: {{BIN}}/braze-destination
  registry: local
  write_mode: append
  spec:
    api_key: "${BRAZE_API_KEY}"
    endpoint: "${BRAZE_ENDPOINT}"
    update_existing_only: false
    export_value: E2E
    dead_letter_file: dead.jsonl
%s`
