package snowflake

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	rlog "github.com/sirupsen/logrus"
)

// TestDriverLogIsReemitted: lines in the driver's format come out as JSON log events with the
// driver's level (info demoted to debug) and message, and nothing else is written.
func TestDriverLogIsReemitted(t *testing.T) {
	var buf bytes.Buffer
	d := &driverLog{log: zerolog.New(&buf)}
	// The driver's formatter: logrus text with the caller, as gosnowflake sets it up.
	l := rlog.New()
	l.SetOutput(d)
	l.SetLevel(rlog.DebugLevel)
	l.SetFormatter(&rlog.TextFormatter{DisableColors: true})
	l.WithField("file", "connection.go:42").Error(`query failed: "table" not found`)
	l.Info("connected")
	_, _ = d.Write([]byte("not logrus at all\n"))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	want := []struct{ level, msg string }{
		{"error", `query failed: "table" not found`},
		{"debug", "connected"},
		{"debug", "not logrus at all"},
	}
	for i, line := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %d is not JSON: %q", i, line)
		}
		if ev["level"] != want[i].level || ev["message"] != want[i].msg {
			t.Errorf("line %d = %v, want level %s message %q", i, ev, want[i].level, want[i].msg)
		}
	}
}
