//go:build brazesync_testhooks

package pluginserver

import (
	"fmt"
	"os"
	"strconv"

	"github.com/rs/zerolog"
)

// Test hooks for the runner's failure-mode tests: the plugin panics or hangs after this many rows.
// They exist only in binaries built with -tags brazesync_testhooks (test/testbin builds those); the
// release build has the no-op in testhooks_off.go.
const (
	envPanicAfterRows = "BRAZESYNC_TEST_PANIC_AFTER_ROWS"
	envHangAfterRows  = "BRAZESYNC_TEST_HANG_AFTER_ROWS"
)

type testHooks struct {
	log                   zerolog.Logger
	panicAfter, hangAfter int64
}

func loadTestHooks(log zerolog.Logger) testHooks {
	return testHooks{log: log, panicAfter: envInt(envPanicAfterRows), hangAfter: envInt(envHangAfterRows)}
}

func (h testHooks) afterRows(rows int64) {
	if h.panicAfter > 0 && rows >= h.panicAfter {
		panic(fmt.Sprintf("%s: panicking after %d rows as asked", envPanicAfterRows, rows))
	}
	if h.hangAfter > 0 && rows >= h.hangAfter {
		h.log.Warn().Int64("rows", rows).Msg(envHangAfterRows + ": hanging as asked")
		select {}
	}
}

func envInt(name string) int64 {
	n, _ := strconv.ParseInt(os.Getenv(name), 10, 64)
	return n
}
