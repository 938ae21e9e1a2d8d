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

// fileToBraze is a file source into the shared Braze destination with the given spec extras.
func fileToBraze(file string, extra ...string) string {
	return testbin.Spec(testbin.FileSource(file), testbin.BrazeDestination("E2E", extra...))
}
