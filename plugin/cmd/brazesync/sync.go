package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/brazesync/brazesync/plugin/runner"
)

// progressModes are the values of sync's --progress.
var progressModes = []string{"auto", "tty", "plain", "none"}

// syncFlags are the flags of `brazesync sync`. A new flag is a field here, a line in register and,
// when the runner needs it, a line in options.
type syncFlags struct {
	report, logFormat, logLevel, progress           string
	progressInterval, stallTimeout, shutdownTimeout time.Duration
	fullRefresh, allowMassRemoval                   bool
}

func newSyncCmd() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync [flags] SPEC.yml [SPEC.yml…]",
		Short: "Run a sync: the sources' rows into Braze, with a run report",
		Long: "Run a sync from CloudQuery sync spec files (kind: source and kind: destination documents).\n" +
			"Flags may come before or after the spec files.\n\n" +
			"Exit codes: 0 success · 1 failed (delivery, rejections over max_rejected_rows) · 2 configuration ·\n" +
			"3 Braze refused the key or is unreachable · 4 a plugin failed · 130 cancelled (report still written).",
		ValidArgsFunction: specFileArgs,
		RunE:              f.run,
	}
	f.register(cmd)
	return cmd
}

func (f *syncFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.report, "report", "brazesync-report.json", `write the JSON run report here (- for stdout, "" for none)`)
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: auto (live on a terminal, lines otherwise), tty, plain, none")
	fs.DurationVar(&f.progressInterval, "progress-interval", 10*time.Second, "how often plain progress lines are logged")
	fs.DurationVar(&f.stallTimeout, "stall-timeout", 5*time.Minute, "kill a destination plugin that makes no progress for this long")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "after SIGINT/SIGTERM, how long in-flight requests may take")
	fullRefreshFlag(cmd, &f.fullRefresh)
	fs.BoolVar(&f.allowMassRemoval, "allow-mass-removal", false,
		"mirror mode, this run only: remove the label even when more than max_removal_ratio of the flagged users left the query")
	completeValues(cmd, "log-format", logFormats)
	completeValues(cmd, "log-level", logLevels)
	completeValues(cmd, "progress", progressModes)
}

// options turns the flags into the runner's options and the console the run writes on (logs,
// progress, the closing summary); a bad value is a usage error.
func (f *syncFlags) options(specs []string, stderr io.Writer) (runner.Options, *runner.Console, error) {
	if !slices.Contains(progressModes, f.progress) {
		return runner.Options{}, nil, fmt.Errorf("--progress: %q is not one of auto, tty, plain, none", f.progress)
	}
	con := runner.NewConsole(stderr, f.logFormat == "json", progressTTY(f.progress, stderr))
	log, err := newLogger(con, f.logFormat, f.logLevel)
	if err != nil {
		return runner.Options{}, nil, err
	}
	opts := runner.Options{SpecFiles: specs, ReportPath: f.report, Log: log,
		StallTimeout: f.stallTimeout, ShutdownTimeout: f.shutdownTimeout, ProgressInterval: f.progressInterval,
		FullRefresh: f.fullRefresh, AllowMassRemoval: f.allowMassRemoval}
	if f.report == "-" {
		opts.ReportPath = "" // printed on stdout instead, after the run
	}
	if f.progress != "none" {
		opts.Progress = con
		if con.TTY() {
			opts.ProgressInterval = 250 * time.Millisecond
		}
	}
	return opts, con, nil
}

func (f *syncFlags) run(cmd *cobra.Command, specs []string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	opts, con, err := f.options(specs, stderr)
	if err != nil {
		return err
	}
	rep, err := runner.Run(cmd.Context(), opts)
	con.Finish(opts.Log, rep, err, opts.ReportPath) // the summary in text mode, one JSON line otherwise
	if f.report == "-" {
		writeReportTo(stdout, rep)
	}
	return exitWith(runner.ExitCode(err))
}

// progressTTY reports whether the progress is a live line: --progress tty, or auto on a terminal.
func progressTTY(mode string, stderr io.Writer) bool {
	switch mode {
	case "tty":
		return true
	case "auto":
		f, ok := stderr.(*os.File)
		return ok && term.IsTerminal(int(f.Fd()))
	}
	return false
}

// writeReportTo prints the report as one line of JSON, so an orchestrator that keeps the last line
// of stdout (Airflow's XCom) gets all of it.
func writeReportTo(w io.Writer, rep *runner.RunReport) {
	b, _ := json.Marshal(rep)
	fmt.Fprintln(w, string(b))
}
