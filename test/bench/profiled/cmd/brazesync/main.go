// Command brazesync is `brazesync sync` (plugin/cmd/brazesync) reduced to what the
// benchmarks use, with profiling (see package profiled): it runs runner.Run with JSON
// logs on stderr and no progress display.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/bench/profiled"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "sync" {
		fmt.Fprintln(os.Stderr, "usage: brazesync sync [--report FILE] SPEC.yml")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("sync", flag.ExitOnError)
	report := fs.String("report", "brazesync-report.json", "run report")
	fs.String("log-format", "json", "ignored: always json")
	fs.String("progress", "none", "ignored: always none")
	_ = fs.Parse(os.Args[2:])
	stop := profiled.Start("brazesync")
	log := zerolog.New(os.Stderr).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	_, err := runner.Run(context.Background(), runner.Options{SpecFiles: fs.Args(), ReportPath: *report, Log: log})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "brazesync: error:", err)
	}
	os.Exit(runner.ExitCode(err))
}
