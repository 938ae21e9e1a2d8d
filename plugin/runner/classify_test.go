package runner

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/brazesync/brazesync/destination/report"
)

// TestExitCodeOfEachClass: the sentinels the runner wraps errors in map to the documented codes.
func TestExitCodeOfEachClass(t *testing.T) {
	for err, want := range map[error]int{
		nil: ExitOK,
		fmt.Errorf("source %q: sync: x (%w)", "s", ErrSourceRetryable): ExitFailed,
		fmt.Errorf("%w: source %q: wrong password", ErrConfig, "s"):    ExitConfig,
		fmt.Errorf("%w: source %q exited", ErrPlugin, "s"):             ExitPlugin,
		fmt.Errorf("%w: x", ErrUnavailable):                            ExitAuth,
		errors.Join(context.Canceled, errors.New("x")):                 ExitCancelled,
		errors.New("delivery failed"):                                  ExitFailed,
	} {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// TestSourceMessageDropsSDKWords: users read the plugin's own words, not plugin-sdk's prefixes.
func TestSourceMessageDropsSDKWords(t *testing.T) {
	err := status.Error(codes.Unavailable, "failed to sync records: failed to sync unmanaged client: connecting: refused")
	if got := sourceMessage(err); got != "connecting: refused" {
		t.Errorf("sourceMessage = %q", got)
	}
}

// TestNotReadCountsWhatADestinationNeverRead: rows offered by every source feeding a destination,
// minus what it read.
func TestNotReadCountsWhatADestinationNeverRead(t *testing.T) {
	r := &run{
		spec: &Spec{Sources: []*SourceSpec{{Name: "a", Destinations: []string{"d1", "d2"}}, {Name: "b", Destinations: []string{"d2"}}}},
		rr:   &RunReport{Sources: map[string]int64{"a": 100, "b": 50}},
	}
	for name, want := range map[string]int64{"d1": 60, "d2": 110} {
		if got := r.notRead(name, &report.Report{RowsRead: 40}); got != want {
			t.Errorf("%s: %d not read, want %d", name, got, want)
		}
	}
}
