package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"

	"github.com/brazesync/brazesync/plugin/runner"
)

func syncCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reportPath := fs.String("report", "brazesync-report.json", "write the JSON run report here (- for stdout)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	progress := fs.String("progress", "auto", "progress display: auto (live on a terminal, lines otherwise), tty, plain, none")
	interval := fs.Duration("progress-interval", 10*time.Second, "how often plain progress lines are logged")
	stall := fs.Duration("stall-timeout", 5*time.Minute, "kill a destination plugin that makes no progress for this long")
	shutdown := fs.Duration("shutdown-timeout", 30*time.Second, "after SIGINT/SIGTERM, how long in-flight requests may take")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: brazesync sync [flags] SPEC.yml [SPEC.yml…]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return runner.ExitConfig
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "brazesync:", err)
		return runner.ExitConfig
	}
	opts := runner.Options{SpecFiles: fs.Args(), ReportPath: *reportPath, Log: log,
		StallTimeout: *stall, ShutdownTimeout: *shutdown, ProgressInterval: *interval}
	if *reportPath == "-" {
		opts.ReportPath = ""
	}
	setProgress(&opts, *progress, stderr)
	rep, err := runner.Run(ctx, opts)
	fmt.Fprint(stderr, rep.Summary())
	if *reportPath == "-" {
		writeReportTo(stdout, rep)
	} else if *reportPath != "" {
		fmt.Fprintf(stderr, "  report:         %s\n", *reportPath)
	}
	if err != nil {
		fmt.Fprintln(stderr, "brazesync: error:", err)
	}
	return runner.ExitCode(err)
}

func setProgress(opts *runner.Options, mode string, stderr io.Writer) {
	isTTY := false
	if f, ok := stderr.(*os.File); ok {
		isTTY = term.IsTerminal(int(f.Fd()))
	}
	switch mode {
	case "none":
		return
	case "tty":
		isTTY = true
	case "plain":
		isTTY = false
	}
	opts.Progress, opts.ProgressTTY = stderr, isTTY
	if isTTY {
		opts.ProgressInterval = 250 * time.Millisecond
	}
}

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

// writeReportTo prints the report as one line of JSON, so an orchestrator that keeps the last line
// of stdout (Airflow's XCom) gets all of it.
func writeReportTo(w io.Writer, rep *runner.RunReport) {
	b, _ := json.Marshal(rep)
	fmt.Fprintln(w, string(b))
}
