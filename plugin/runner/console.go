package runner

import (
	"fmt"
	"io"
	"sync"

	"github.com/rs/zerolog"
)

// Console is the operator's stderr during a sync: log lines, the progress display and the closing
// summary, in the chosen log format. With JSON logs every line on it is JSON: progress is logged,
// and the summary is one "run finished" line (the report itself goes to its file or stdout). In
// text mode on a terminal the progress is one live line that log lines do not tear: each log line
// clears it, is written, and the progress line is drawn again below it.
//
// Give the run's logger the Console as its output, and the Console as Options.Progress.
type Console struct {
	mu     sync.Mutex
	out    io.Writer
	json   bool
	tty    bool
	status string // the live progress line on screen, "" when none
}

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\033[K"

// NewConsole writes to stderr. json: the logs are JSON lines; tty: stderr is a terminal (ignored
// with JSON logs, whose readers are programs).
func NewConsole(stderr io.Writer, json, tty bool) *Console {
	return &Console{out: stderr, json: json, tty: tty && !json}
}

// TTY reports whether the progress is a live line (a terminal, text logs).
func (c *Console) TTY() bool { return c.tty }

// Write writes log output; zerolog writes each event, a whole line, in one call.
func (c *Console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == "" {
		return c.out.Write(p)
	}
	buf := make([]byte, 0, len(clearLine)+len(p)+len(c.status))
	buf = append(append(append(buf, clearLine...), p...), c.status...)
	if _, err := c.out.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// progress shows one progress update: the live line on a terminal, a log event with JSON logs, a
// plain line otherwise.
func (c *Console) progress(log zerolog.Logger, p progressSnapshot) {
	line := p.String()
	if c.json {
		p.log(log.Info()).Msg(line)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tty {
		c.status = line
		fmt.Fprint(c.out, clearLine+line)
		return
	}
	fmt.Fprintln(c.out, line)
}

// clearProgress erases the live line, if any.
func (c *Console) clearProgress() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status != "" {
		fmt.Fprint(c.out, clearLine)
		c.status = ""
	}
}

// Finish tells how the run ended: in text mode the report's summary, where the report was written,
// and the error; with JSON logs one log line carrying the same facts. reportPath is the report
// file ("" for none or stdout).
func (c *Console) Finish(log zerolog.Logger, rep *RunReport, err error, reportPath string) {
	c.clearProgress()
	if c.json {
		ev := log.Info()
		if err != nil {
			ev = log.Error().Err(err)
		}
		ev = ev.Str("run_id", rep.RunID).Str("status", rep.Status).Int("exit_code", ExitCode(err)).
			Int64("rows_read", rep.RowsRead).Int64("users_sent", rep.UsersSent).Int64("rows_merged", rep.RowsMerged).
			Int64("rows_skipped", rep.Skipped()).Int64("rows_rejected", rep.Rejected()).
			Int64("rows_unaccounted", rep.RowsUnaccounted).Int64("requests", rep.Requests).
			Float64("duration_seconds", rep.DurationSeconds)
		if reportPath != "" {
			ev = ev.Str("report", reportPath)
		}
		if rep.DeadLetterFile != "" && rep.Rejected() > 0 {
			ev = ev.Str("dead_letter_file", rep.DeadLetterFile)
		}
		ev.Msg("run finished")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprint(c.out, rep.Summary())
	if reportPath != "" {
		fmt.Fprintf(c.out, "  report:         %s\n", reportPath)
	}
	if err != nil {
		fmt.Fprintln(c.out, "brazesync: error:", err)
	}
}
