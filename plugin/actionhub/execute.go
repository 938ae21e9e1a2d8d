package actionhub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/source/looker"
)

// zerologLogger keeps signatures short.
type zerologLogger = zerolog.Logger

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

// answer is the execute response body.
type answer struct {
	Looker lookerAnswer `json:"looker"`
}

type lookerAnswer struct {
	Success          bool              `json:"success"`
	Message          string            `json:"message"`
	RefreshQuery     bool              `json:"refresh_query"`
	ValidationErrors map[string]string `json:"validation_errors"`
}

func (o *outcome) answer() answer {
	v := o.validation
	if v == nil {
		v = map[string]string{}
	}
	return answer{Looker: lookerAnswer{Success: o.success, Message: o.message, ValidationErrors: v}}
}

// errLookerGone cancels an execution whose caller hung up: nobody waits for its answer any more, and
// an attacker must not keep a download going by walking away.
var errLookerGone = errors.New("Looker closed the connection, so the execution was cancelled")

// finishGrace is how long a cut-short execution waits for the destination's last answers.
const finishGrace = 30 * time.Second

func newRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "looker-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// execute answers Looker's execute call. The answer starts at once (200, then keep-alive
// newlines); the body is read only once an execution slot is free, so a queued execution holds a
// connection, not its body.
func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	// HTTP/1 needs this to read the body after the answer started.
	_ = http.NewResponseController(w).EnableFullDuplex()
	// Close the body here, not after the handler: with full duplex, net/http would otherwise drain
	// an unread body only after it stopped watching the connection, and then read it twice at once.
	defer r.Body.Close()
	s.runs.Add(1)
	defer s.runs.Done()
	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	defer context.AfterFunc(r.Context(), func() { cancel(errLookerGone) })()
	ka := startKeepAlive(w, s.cfg.KeepAlive, func() { cancel(errLookerGone) })
	start := time.Now()
	ex := &execution{s: s, start: start, runID: newRunID(start),
		info: runInfo{webhookID: r.Header.Get("X-Looker-Webhook-Id"), instance: r.Header.Get("X-Looker-Instance")}}
	ex.log = s.cfg.Logger.With().Str("run_id", ex.runID).Str("webhook_id", ex.info.webhookID).Logger()
	ka.finish(ex.admit(ctx, w, r).answer())
}

// execution is one execute call from admission to report.
type execution struct {
	s     *Server
	info  runInfo
	start time.Time
	runID string
	log   zerolog.Logger
	req   *request // nil until the payload is valid
}

// admit waits for a slot, then reads and runs the payload.
func (ex *execution) admit(ctx context.Context, w http.ResponseWriter, r *http.Request) *outcome {
	if err := ex.s.acquire(ctx); err != nil {
		return ex.finish(nil, 0, err)
	}
	defer ex.s.release()
	p, f := ex.s.readPayload(w, r)
	if f != nil {
		return ex.refuse(f)
	}
	req, f := p.validate(ex.s.policy)
	if f != nil {
		return ex.refuse(f)
	}
	ex.req = req
	return ex.run(ctx)
}

// run launches the destination (Braze accepts the key), then downloads and sends the result.
func (ex *execution) run(ctx context.Context) *outcome {
	ctx, cancel := context.WithTimeoutCause(ctx, ex.s.cfg.RunTimeout,
		&boundError{what: "the execution took too long", flag: "run-timeout", value: ex.s.cfg.RunTimeout})
	defer cancel()
	dest, err := ex.s.launch(ctx, ex.runID, ex.req, ex.log)
	if err != nil {
		return ex.finish(nil, 0, err)
	}
	rows, streamErr := ex.stream(ctx, dest)
	streamErr = joinUnique(streamErr, ex.endTable(ctx, dest, streamErr)) // mirror mode (mirror.go)
	fctx, done := ex.finishContext(ctx)
	rep, finishErr := dest.Finish(fctx)
	done()
	return ex.finish(rep, rows, joinUnique(streamErr, finishErr))
}

// stream reads the result and hands it to the destination, returning the rows decoded.
func (ex *execution) stream(ctx context.Context, dest *runner.Destination) (int64, error) {
	in, err := ex.s.open(ctx, ex.req)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	snd := &recordSender{send: dest.Send, maxColumns: ex.s.cfg.Limits.MaxColumns}
	err = looker.DecodeJSONDetailLimited(in, snd.handler(), ex.s.cfg.Limits.decodeLimits())
	rows := snd.close()
	switch {
	case snd.sendErr != nil:
		// The destination failed: that is the story, not the decoder's view of it.
		err = fmt.Errorf("The Braze writer failed: %w", snd.sendErr)
	case in.Failure() != nil:
		err = in.Failure()
	case err != nil && ctx.Err() != nil:
		err = context.Cause(ctx)
	}
	return rows, limitHint(err)
}

// limitHint names the flag behind a decoder limit.
func limitHint(err error) error {
	var le *looker.LimitError
	if !errors.As(err, &le) {
		return err
	}
	switch le.What {
	case looker.LimitRow:
		return fmt.Errorf("%w (--max-row-bytes)", err)
	case looker.LimitSection:
		return fmt.Errorf("%w (--max-header-bytes)", err)
	}
	return err
}

// finishContext bounds the wait for the destination's last answers: rows already handed over are
// delivered even after Looker hung up, within the run timeout; a shutdown or an expired run gets
// a short grace, after which the destination dead-letters what it has not sent.
func (ex *execution) finishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), errLookerGone) {
		return context.WithTimeout(context.Background(), finishGrace)
	}
	deadline, _ := ctx.Deadline()
	fctx, cancel := context.WithDeadline(context.Background(), deadline)
	stop := context.AfterFunc(ex.s.ctx, cancel)
	return fctx, func() { stop(); cancel() }
}

// joinUnique joins two errors, once when one wraps the other: a dead destination fails both the
// sending and the finish.
func joinUnique(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil, errors.Is(a, b):
		return a
	case errors.Is(b, a):
		return b
	}
	return errors.Join(a, b)
}

// refuse reports an execution refused before anything was read or sent.
func (ex *execution) refuse(f *failure) *outcome {
	out := ex.finish(nil, 0, f)
	out.validation = f.validation
	out.message = f.message
	return out
}

// finish accounts for the execution, writes its report and logs it. rep is the destination's
// report (nil when none ran); rows counts rows decoded from Looker.
func (ex *execution) finish(rep *report.Report, rows int64, err error) *outcome {
	if rep == nil {
		rep = report.New(ex.runID, ex.start)
	}
	rep.RunID = ex.runID
	if rows > rep.RowsRead {
		// Decoded but never handed over (the destination failed first): not silently lost.
		rep.RowsUnaccounted += rows - rep.RowsRead
		rep.RowsRead = rows
	}
	out := judge(rep, rows, err)
	status := report.StatusSuccess
	switch {
	case errors.Is(err, errLookerGone), errors.Is(err, errShutdown):
		status = report.StatusCancelled
	case !out.success:
		status = report.StatusFailed
	}
	if err == nil && !out.success {
		err = errors.New(out.message)
	}
	rep.Finish(status, err, time.Now())
	ex.s.record(rep, ex.info, ex.req)
	return out
}

// judge turns a finished run into Looker's answer: success only when every
// row was delivered or skipped for a counted reason.
func judge(rep *report.Report, rows int64, err error) *outcome {
	counts := fmt.Sprintf("%d rows read, %d users sent, %d merged, %d skipped%s, %d rejected%s",
		rows, rep.UsersSent, rep.RowsMerged, rep.Skipped(), reasons(rep.RowsSkipped), rep.Rejected(), reasons(rep.RowsRejected))
	if rep.RowsUnaccounted > 0 {
		counts += fmt.Sprintf(", %d unaccounted (the Braze writer stopped with them in hand; send the Look again)", rep.RowsUnaccounted)
	}
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
		Int64("rows_unaccounted", rep.RowsUnaccounted).Str("report", file).Msg("looker action executed")
}
