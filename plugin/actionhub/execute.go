package actionhub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/source/looker"
)

// tableName names the single table of an execution in reports.
const tableName = "looker_action"

// runInfo is what the request headers say about an execution.
type runInfo struct {
	webhookID string
	instance  string
}

// outcome is the result of one execution.
type outcome struct {
	success    bool
	message    string
	validation map[string]string
}

func newRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "looker-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// finishEarly reports an execution refused before anything was read.
func (s *Server) finishEarly(info runInfo, f *failure) *outcome {
	now := time.Now()
	rep := report.New(newRunID(now), now)
	rep.Finish(report.StatusFailed, f, time.Now())
	s.record(rep, info, nil)
	return &outcome{message: f.message, validation: f.validation}
}

// run validates, queues, streams and sends one execution, then reports it.
func (s *Server) run(p executePayload, info runInfo) *outcome {
	req, f := p.validate(s.policy)
	if f != nil {
		return s.finishEarly(info, f)
	}
	start := time.Now()
	runID := newRunID(start)
	// The run outlives Looker hanging up: the download_url is single-use,
	// so abandoning it would lose the export.
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RunTimeout)
	defer cancel()
	log := s.cfg.Logger.With().Str("run_id", runID).Str("webhook_id", info.webhookID).Logger()

	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		rep := report.New(runID, start)
		err := fmt.Errorf("waiting for a free execution slot: %w", ctx.Err())
		rep.Finish(report.StatusFailed, err, time.Now())
		s.record(rep, info, req)
		return &outcome{message: "The action hub is busy and the run timed out waiting: " + ctx.Err().Error()}
	}

	rep, rows, err := s.send(ctx, runID, req, log)
	if rep == nil {
		rep = report.New(runID, start)
	}
	out := judge(rep, rows, err)
	status := report.StatusSuccess
	if !out.success {
		status = report.StatusFailed
	}
	var runErr error
	if err != nil {
		runErr = err
	} else if !out.success {
		runErr = errors.New(out.message)
	}
	rep.Finish(status, runErr, time.Now())
	s.record(rep, info, req)
	return out
}

// send streams the result into a sink and closes it. rows counts rows
// decoded from Looker. The report is nil when no sink was opened.
func (s *Server) send(ctx context.Context, runID string, req *request, log zerologLogger) (*report.Report, int64, error) {
	body, err := s.open(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	defer body.Close()
	sink, err := s.cfg.Sink(ctx, SinkConfig{
		RunID: runID, APIKey: req.apiKey, Endpoint: req.endpoint, UserKey: req.userKey,
		ExportLabel: req.exportLabel, CustomEndpoint: s.policy.extraHosts[hostOf(req.endpoint)],
		DeadLetterFile: s.path(runID + ".dead-letter.jsonl"),
	}, log)
	if err != nil {
		return nil, 0, fmt.Errorf("connecting to Braze: %w", err)
	}
	var rw *looker.RecordWriter
	streamErr := looker.DecodeJSONDetail(body, looker.Handler{
		OnHeader: func(h *looker.Header) error {
			var err error
			rw, err = recordWriter(h, func(rec arrow.Record) error {
				defer rec.Release()
				return sink.Write(ctx, rec)
			})
			return err
		},
		OnRow: func(r looker.Row) error { return rw.Append(r) },
	})
	var rows int64
	if rw != nil {
		if streamErr == nil {
			streamErr = rw.Flush()
		}
		rows = rw.Rows()
		rw.Release()
	}
	// Close always: rows already queued are sent and accounted for.
	rep, closeErr := sink.Close(ctx)
	return rep, rows, errors.Join(streamErr, closeErr)
}

// zerologLogger keeps the signature short.
type zerologLogger = zerolog.Logger

func hostOf(endpoint string) string {
	_, h, _ := strings.Cut(endpoint, "://")
	return h
}

// recordWriter checks the columns for a usable ID and builds the writer.
func recordWriter(h *looker.Header, emit func(arrow.Record) error) (*looker.RecordWriter, error) {
	cols, err := looker.Columns(h)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cols {
		for _, t := range c.Tags {
			if t == idTag {
				ids = append(ids, c.Name)
			}
		}
	}
	switch {
	case len(ids) == 0:
		return nil, errors.New("Primary Braze key not found: tag one dimension of the query braze_id")
	case len(ids) > 1:
		return nil, fmt.Errorf("several fields are tagged braze_id (%s): tag exactly one", strings.Join(ids, ", "))
	}
	loc, err := looker.Location(h)
	if err != nil {
		return nil, err
	}
	md := arrow.MetadataFrom(map[string]string{cqschema.MetadataTableName: tableName})
	return looker.NewRecordWriter(cols, looker.ArrowSchema(cols, &md), loc, 0, emit), nil
}

// open returns the result stream: the download_url when given (the
// "url" delivery), else the inline attachment.
func (s *Server) open(ctx context.Context, req *request) (io.ReadCloser, error) {
	if req.downloadURL == "" {
		r, err := req.attachment.reader()
		if err != nil {
			return nil, err
		}
		return io.NopCloser(r), nil
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.downloadURL, nil)
	if err != nil {
		return nil, fmt.Errorf("building download request: %w", err)
	}
	resp, err := s.cfg.HTTPClient.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("There was an error with Action Hub calling back to Looker: %w", redactURLError(err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("There was an error with Action Hub calling back to Looker, status code: %d", resp.StatusCode)
	}
	return resp.Body, nil
}

// redactURLError drops the URL (a one-time credential) from a transport error.
func redactURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// judge turns a finished run into Looker's answer: success only when every
// row was delivered or skipped for a counted reason.
func judge(rep *report.Report, rows int64, err error) *outcome {
	counts := fmt.Sprintf("%d rows read, %d users sent, %d merged, %d skipped%s, %d rejected%s",
		rows, rep.UsersSent, rep.RowsMerged, rep.Skipped(), reasons(rep.RowsSkipped), rep.Rejected(), reasons(rep.RowsRejected))
	switch {
	case err != nil:
		return &outcome{message: fmt.Sprintf("%s (%s; run %s)", strings.TrimSuffix(err.Error(), "."), counts, rep.RunID)}
	case rep.Rejected() > 0 || rep.RowsUnaccounted > 0 || rep.RowsRead != rows:
		return &outcome{message: fmt.Sprintf("Not every row reached Braze: %s; rejected rows are in the hub's dead-letter file (run %s)", counts, rep.RunID)}
	}
	return &outcome{success: true, message: fmt.Sprintf("ok: %s (run %s)", counts, rep.RunID)}
}

func reasons(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, fmt.Sprintf("%s=%d", k, v))
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	return " (" + strings.Join(keys, ", ") + ")"
}

func (s *Server) path(name string) string {
	if s.cfg.ReportDir == "" {
		return name
	}
	return filepath.Join(s.cfg.ReportDir, name)
}

// record writes the run report and logs the outcome (never the key).
func (s *Server) record(rep *report.Report, info runInfo, req *request) {
	if req != nil {
		rep.Notes = append(rep.Notes, "looker title: "+req.title, "scheduled plan: "+req.planID,
			"braze endpoint: "+req.endpoint, "braze_key: "+req.userKey, "export label: "+req.exportLabel)
	}
	rep.Notes = append(rep.Notes, "looker webhook id: "+info.webhookID, "looker instance: "+info.instance)
	file := s.path(rep.RunID + ".json")
	if err := rep.WriteFile(file); err != nil {
		s.cfg.Logger.Error().Err(err).Str("run_id", rep.RunID).Msg("writing run report")
		file = ""
	}
	ev := s.cfg.Logger.Info()
	if rep.Status != report.StatusSuccess {
		ev = s.cfg.Logger.Warn()
	}
	ev.Str("run_id", rep.RunID).Str("status", rep.Status).Str("error", rep.Error).
		Int64("rows_read", rep.RowsRead).Int64("users_sent", rep.UsersSent).
		Int64("rows_skipped", rep.Skipped()).Int64("rows_rejected", rep.Rejected()).
		Str("report", file).Msg("looker action executed")
}
