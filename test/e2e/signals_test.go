package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// concurrency is the destination's in the signal tests: at most this many requests are on the wire
// when a signal comes, so at most this many may still reach Braze after it (those the rate limiter
// released in the instant before the drain reached the plugin, already sent, are counted then).
const concurrency = 2

// hangAfterKeyCheck answers the key check, then no request at all (each waits an hour).
var hangAfterKeyCheck = brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: time.Hour, After: 1}

// pacedSpec reads file into a destination paced at 20 requests a second.
func pacedSpec(file string, extra ...string) string {
	return fileToBraze(file, append([]string{fmt.Sprintf("concurrency: %d", concurrency),
		"rate_limit: 20", "rate_window: 1s"}, extra...)...)
}

// TestSignalStopsNewRequests signals a paced run in each phase — while the source is still being
// read, and once every row was handed to the destination (draining) — and checks that no request
// starts after the signal, that the run ends cancelled with exit 130, and that the report is
// balanced with every unsent row dead-lettered as run_cancelled.
func TestSignalStopsNewRequests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rows  int
		extra []string
		ready func(s *liveSync, emu *brazeemu.Emulator) bool
	}{
		// 300,000 rows at 20 requests a second: the source is far from read when the signal comes.
		{name: "reading", rows: 300_000, ready: func(_ *liveSync, emu *brazeemu.Emulator) bool {
			return emu.Stats().Requests >= 10
		}},
		// 600 rows in requests of 10: read and handed over at once, 60 requests to send.
		{name: "draining", rows: 600, extra: []string{"batch_size: 10"}, ready: func(s *liveSync, emu *brazeemu.Emulator) bool {
			return strings.Contains(s.stderr.String(), "rows read 600 ·") && emu.Stats().Requests >= 5
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const key = "e2e-signal-key-7a1d"
			emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
			emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 30 * time.Millisecond})
			data := filepath.Join(t.TempDir(), "users.parquet")
			writeNarrowParquet(t, data, tc.rows)
			s := startSync(t, pacedSpec(data, tc.extra...), map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()},
				"--shutdown-timeout", "5s")
			s.waitFor("the phase under test", func() bool { return tc.ready(s, emu) })

			s.signal(syscall.SIGTERM)
			signalled, atSignal := time.Now(), emu.Stats().Requests
			code, rep := s.wait(time.Minute)
			t.Logf("exited %s after the signal", time.Since(signalled).Round(time.Millisecond))

			after := emu.Stats().Requests
			t.Logf("requests at the signal %d, at the end %d; report: read %d sent %d rejected %v", atSignal, after,
				rep.RowsRead, rep.UsersSent, rep.RowsRejected)
			if code != runner.ExitCancelled || rep.Status != "cancelled" {
				t.Errorf("exit %d status %s, want %d cancelled\n%s", code, rep.Status, runner.ExitCancelled, testbin.Tail(s.stderr.String(), 3000))
			}
			if after-atSignal > concurrency {
				t.Errorf("%d requests started after the signal (at most %d were on the wire)", after-atSignal, concurrency)
			}
			assertCancelledReport(t, rep, emu)
			if rep.RowsRejected["run_cancelled"] == 0 {
				t.Errorf("no row dead-lettered as run_cancelled: %+v", rep.RowsRejected)
			}
		})
	}
}

// TestSignalDeadlineAbortsRequestsInFlight: requests still on the wire when --shutdown-timeout
// passes are given up: their rows are dead-lettered as run_cancelled, none counts as sent.
func TestSignalDeadlineAbortsRequestsInFlight(t *testing.T) {
	const key = "e2e-deadline-key-51bc"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
	data := filepath.Join(t.TempDir(), "users.parquet")
	writeNarrowParquet(t, data, 2_000)
	emu.SetFaults(hangAfterKeyCheck)
	s := startSync(t, pacedSpec(data), map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()},
		"--shutdown-timeout", "500ms")
	s.waitFor("requests on the wire", func() bool { return emu.Stats().Requests >= 1+concurrency })

	s.signal(syscall.SIGINT)
	atSignal := emu.Stats().Requests
	code, rep := s.wait(time.Minute)

	if code != runner.ExitCancelled || rep.Status != "cancelled" {
		t.Errorf("exit %d status %s, want %d cancelled\n%s", code, rep.Status, runner.ExitCancelled, testbin.Tail(s.stderr.String(), 3000))
	}
	if n := emu.Stats().Requests - atSignal; n > concurrency {
		t.Errorf("%d requests started after the signal", n)
	}
	if rep.UsersSent != 0 {
		t.Errorf("%d users counted as sent, though no request was ever answered", rep.UsersSent)
	}
	assertCancelledReport(t, rep, emu)
}

// TestSecondSignalEndsAtOnce: a second signal gives up on the requests in flight without waiting
// for --shutdown-timeout (here an hour); the report is still written and balanced.
func TestSecondSignalEndsAtOnce(t *testing.T) {
	const key = "e2e-second-key-c0de"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
	data := filepath.Join(t.TempDir(), "users.parquet")
	writeNarrowParquet(t, data, 2_000)
	emu.SetFaults(hangAfterKeyCheck)
	s := startSync(t, pacedSpec(data), map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()},
		"--shutdown-timeout", "1h")
	s.waitFor("requests on the wire", func() bool { return emu.Stats().Requests >= 1+concurrency })

	s.signal(syscall.SIGTERM)
	s.waitFor("the first signal's shutdown", func() bool { return strings.Contains(s.stderr.String(), "no new request") })
	s.signal(syscall.SIGTERM)
	code, rep := s.wait(time.Minute) // far below the hour the first signal alone would wait

	if code != runner.ExitCancelled || rep.Status != "cancelled" {
		t.Errorf("exit %d status %s, want %d cancelled\n%s", code, rep.Status, runner.ExitCancelled, testbin.Tail(s.stderr.String(), 3000))
	}
	if rep.UsersSent != 0 {
		t.Errorf("%d users counted as sent, though no request was ever answered", rep.UsersSent)
	}
	assertCancelledReport(t, rep, emu)
}

// assertCancelledReport checks a cancelled run's report: balanced with nothing unaccounted (the
// destination sent its final report), and never claiming more users than Braze holds.
func assertCancelledReport(t *testing.T, rep *runner.RunReport, emu *brazeemu.Emulator) {
	t.Helper()
	if !rep.Balanced() || rep.RowsUnaccounted != 0 || rep.RowsRead == 0 {
		t.Errorf("report: read %d accounted %d unaccounted %d, want balanced", rep.RowsRead, rep.Accounted(), rep.RowsUnaccounted)
	}
	if got := int64(len(emu.Profiles())); got < rep.UsersSent {
		t.Errorf("report says %d users sent, Braze holds %d", rep.UsersSent, got)
	}
}
