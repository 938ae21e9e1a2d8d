package destination

import (
	"context"
	"errors"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
)

// Session is one write stream from open to final report: the lifecycle every front door shares
// (the CloudQuery client here, the go-plugin server in destination/pluginserver, and through it
// `brazesync sync` and the Looker Action Hub). Front doors only translate their messages into
// Insert and DeleteStale, so what the writer learns (state, mirror, events) is added once.
type Session struct {
	w    *Writer
	spec *Spec
	log  zerolog.Logger
}

// Open checks the key (unless dry_run) and starts the writer of one run.
func Open(ctx context.Context, spec *Spec, log zerolog.Logger, runID string, opts ...Option) (*Session, error) {
	w, err := NewWriter(ctx, spec, log, append([]Option{WithRunID(runID)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &Session{w: w, spec: spec, log: log}, nil
}

// Insert converts and queues one record. It returns the run's fatal error, if any: the caller
// stops reading, and still calls Finish.
func (s *Session) Insert(ctx context.Context, rec arrow.Record) error { return s.w.Write(ctx, rec) }

// DeleteStale is CloudQuery's end-of-table message (write_mode overwrite-delete-stale).
func (s *Session) DeleteStale(table string) { s.w.DeleteStale(table) }

// Progress is a snapshot of the report so far.
func (s *Session) Progress() *report.Report { return s.w.Progress() }

// Abort stops sending now: unsent rows are dead-lettered as run_cancelled (see Writer.Abort).
func (s *Session) Abort() { s.w.Abort() }

// Finish ends the run. streamErr is how the front door's stream ended (nil when it closed
// cleanly); a failed stream aborts what is left. Finish sends what remains, waits for Braze's
// answers until ctx ends, and returns the finished report — also written to report_file when the
// spec names one — with the run's error.
func (s *Session) Finish(ctx context.Context, streamErr error) (*report.Report, error) {
	if streamErr != nil {
		s.w.Abort()
	}
	rep, err := s.w.Close(ctx)
	err = errors.Join(streamErr, err)
	rep.Finish(report.StatusOf(err), err, time.Now())
	s.log.Info().Str("status", rep.Status).Int64("rows_read", rep.RowsRead).Int64("users_sent", rep.UsersSent).
		Int64("rows_skipped", rep.Skipped()).Int64("rows_rejected", rep.Rejected()).Msg("write finished")
	if s.spec.ReportFile != "" {
		if werr := rep.WriteFile(s.spec.ReportFile); werr != nil {
			s.log.Error().Err(werr).Msg("writing report")
		}
	}
	return rep, err
}
