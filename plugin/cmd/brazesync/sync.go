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
	fullRefresh                                     bool
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
	completeValues(cmd, "log-format", logFormats)
	completeValues(cmd, "log-level", logLevels)
	completeValues(cmd, "progress", progressModes)
}

// options turns the flags into the runner's options; a bad value is a usage error.
func (f *syncFlags) options(specs []string, stderr io.Writer) (runner.Options, error) {
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return runner.Options{}, err
	}
	if !slices.Contains(progressModes, f.progress) {
		return runner.Options{}, fmt.Errorf("--progress: %q is not one of auto, tty, plain, none", f.progress)
	}
	opts := runner.Options{SpecFiles: specs, ReportPath: f.report, Log: log,
		StallTimeout: f.stallTimeout, ShutdownTimeout: f.shutdownTimeout, ProgressInterval: f.progressInterval,
		FullRefresh: f.fullRefresh}
	if f.report == "-" {
		opts.ReportPath = "" // printed on stdout instead, after the run
	}
	setProgress(&opts, f.progress, stderr)
	return opts, nil
}

func (f *syncFlags) run(cmd *cobra.Command, specs []string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	opts, err := f.options(specs, stderr)
	if err != nil {
		return err
	}
	rep, err := runner.Run(cmd.Context(), opts)
	fmt.Fprint(stderr, rep.Summary())
	if f.report == "-" {
		writeReportTo(stdout, rep)
	} else if f.report != "" {
		fmt.Fprintf(stderr, "  report:         %s\n", f.report)
	}
	if err != nil {
		fmt.Fprintln(stderr, "brazesync: error:", err)
	}
	return exitWith(runner.ExitCode(err))
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

// writeReportTo prints the report as one line of JSON, so an orchestrator that keeps the last line
// of stdout (Airflow's XCom) gets all of it.
func writeReportTo(w io.Writer, rep *runner.RunReport) {
	b, _ := json.Marshal(rep)
	fmt.Fprintln(w, string(b))
}
