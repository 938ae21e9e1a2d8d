// Package emutest starts the project's emulators for tests: each on a loopback port, closed when
// the test ends. The emulators themselves are product code (package plugin/emulator/...), which
// users run with `brazesync emulator …`; only these testing.TB helpers are test-only.
package emutest

import (
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
)

// Braze serves a new Braze emulator on 127.0.0.1 with an ephemeral port until the test ends.
func Braze(tb testing.TB, opts brazeemu.Options) *brazeemu.Emulator {
	tb.Helper()
	e := brazeemu.New(opts)
	if err := e.Listen("127.0.0.1:0"); err != nil {
		tb.Fatalf("starting braze emulator: %v", err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}

// Looker serves a new Looker API 4.0 emulator on a loopback port until the test ends.
func Looker(tb testing.TB, opts lookeremu.Options) *lookeremu.Server {
	tb.Helper()
	s, err := lookeremu.New(opts)
	if err != nil {
		tb.Fatalf("starting looker emulator: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Snowflake serves a new Snowflake emulator on a loopback port until the test ends.
func Snowflake(tb testing.TB, opts snowflakeemu.Options) *snowflakeemu.Emulator {
	tb.Helper()
	e, err := snowflakeemu.NewStarted(opts)
	if err != nil {
		tb.Fatalf("starting snowflake emulator: %v", err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}
