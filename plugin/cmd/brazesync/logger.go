package main

import (
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/plugin/runner"
)

// newLogger builds the logger of sync and check from their --log-format and --log-level.
func newLogger(w io.Writer, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Logger{}, fmt.Errorf("--log-level: %q is not one of trace, debug, info, warn, error", level)
	}
	quiet := func(w io.Writer) io.Writer {
		if lvl <= zerolog.DebugLevel {
			return w
		}
		return runner.QuietWriter(w)
	}
	switch format {
	case "json":
		return zerolog.New(quiet(w)).Level(lvl).With().Timestamp().Logger(), nil
	case "text":
		return zerolog.New(quiet(zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339})).Level(lvl).With().Timestamp().Logger(), nil
	}
	return zerolog.Logger{}, fmt.Errorf("--log-format: %q is not one of text, json", format)
}
