package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
)

// TestConsoleRedrawsProgressAroundLogLines: on a terminal a log line clears the live progress line,
// is written whole, and the progress line is drawn again after it; once cleared, it is gone.
func TestConsoleRedrawsProgressAroundLogLines(t *testing.T) {
	var out bytes.Buffer
	con := NewConsole(&out, false, true)
	log := zerolog.New(con)
	p := progressSnapshot{elapsed: 3 * time.Second, read: 10, sent: 7, accounted: 7, rate: 2.3}
	con.progress(log, p)
	log.Warn().Msg("something happened")
	con.progress(log, progressSnapshot{elapsed: 4 * time.Second, read: 20, sent: 15, accounted: 15})
	con.clearProgress()
	log.Info().Msg("after")

	want := clearLine + p.String() +
		clearLine + `{"level":"warn","message":"something happened"}` + "\n" + p.String() +
		clearLine + progressSnapshot{elapsed: 4 * time.Second, read: 20, sent: 15, accounted: 15}.String() +
		clearLine + `{"level":"info","message":"after"}` + "\n"
	if got := out.String(); got != want {
		t.Errorf("terminal output:\n got %q\nwant %q", got, want)
	}
}

// TestConsoleJSONIsJSONOnly: with JSON logs, progress and the closing summary are JSON log lines,
// even when stderr is a terminal.
func TestConsoleJSONIsJSONOnly(t *testing.T) {
	var out bytes.Buffer
	con := NewConsole(&out, true, true)
	log := zerolog.New(con)
	con.progress(log, progressSnapshot{elapsed: time.Second, read: 5, total: 100, accounted: 5, rate: 5})
	rep := &RunReport{Report: *report.New("run-1", time.Now())}
	rep.RowsRead, rep.UsersSent = 5, 5
	rep.Finish(report.StatusCancelled, errors.New("cancelled"), time.Now())
	con.Finish(log, rep, errors.New("cancelled"), "report.json")

	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(lines), out.String())
	}
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Errorf("not a JSON line: %q", l)
		}
	}
	var fin map[string]any
	_ = json.Unmarshal([]byte(lines[1]), &fin)
	if fin["message"] != "run finished" || fin["status"] != "cancelled" || fin["report"] != "report.json" || fin["rows_read"] != 5.0 {
		t.Errorf("closing line: %v", fin)
	}
	if con.TTY() {
		t.Error("a JSON console has no live line")
	}
}

// TestConsoleTextSummary: in text mode the summary block, the report's path and the error.
func TestConsoleTextSummary(t *testing.T) {
	var out bytes.Buffer
	con := NewConsole(&out, false, false)
	rep := &RunReport{Report: *report.New("run-2", time.Now())}
	rep.Finish(report.StatusFailed, errors.New("boom"), time.Now())
	con.Finish(zerolog.New(con), rep, errors.New("boom"), "r.json")
	got := out.String()
	for _, want := range []string{"brazesync run run-2: failed", "  report:         r.json\n", "brazesync: error: boom\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
