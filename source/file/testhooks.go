//go:build brazesync_testhooks

package file

import (
	"fmt"
	"os"
	"strconv"
)

// envPanicAfterRows is the runner's failure-mode test hook: the plugin panics while reading once
// this many rows were sent. It exists only in binaries built with -tags brazesync_testhooks; the
// release build has the no-op in testhooks_off.go.
const envPanicAfterRows = "BRAZESYNC_TEST_SOURCE_PANIC_AFTER_ROWS"

type testHooks struct{ panicAfter int64 }

func loadTestHooks() testHooks {
	n, _ := strconv.ParseInt(os.Getenv(envPanicAfterRows), 10, 64)
	return testHooks{panicAfter: n}
}

func (h testHooks) afterRows(path string, rows int64) {
	if h.panicAfter > 0 && rows >= h.panicAfter {
		panic(fmt.Sprintf("%s: panicking in %s after %d rows as asked", envPanicAfterRows, path, rows))
	}
}
