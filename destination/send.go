package destination

import (
	"errors"
	"fmt"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
)

// work sends batches until the queue closes.
func (w *Writer) work() {
	defer w.wg.Done()
	for b := range w.queue {
		w.send(b)
		b.release()
	}
}

// send delivers one batch and accounts for each of its rows.
func (w *Writer) send(b *batch) {
	if err := w.fatalErr(); err != nil {
		w.abandon(b, "run_aborted", err)
		return
	}
	if w.ctx.Err() != nil {
		w.abandon(b, "run_cancelled", w.ctx.Err())
		return
	}
	body := b.finish()
	if w.dry != nil {
		w.sendDry(b, body)
		return
	}
	res, err := w.api.Track(w.ctx, body)
	w.tally.Update(func(r *report.Report) {
		r.Requests += int64(res.Attempts)
		r.Retries += int64(max(0, res.Attempts-1))
		r.RateLimited += int64(res.RateLimited)
		r.BytesSent += res.BytesSent
	})
	if err != nil {
		w.failBatch(b, res, err)
		return
	}
	w.accept(b, res)
}

// failBatch dead-letters every row of a request that did not succeed. Auth failures and an
// unreachable endpoint end the run: no later request could succeed.
func (w *Writer) failBatch(b *batch, res brazeapi.Result, err error) {
	reason := failReason(res, err)
	if brazeapi.Fatal(err) || errors.Is(err, brazeapi.ErrUnreachable) {
		w.setFatal(err)
	}
	if w.ctx.Err() != nil {
		reason = "run_cancelled"
	}
	w.deadLetterAll(b, reason, err.Error(), res.Status)
}

func failReason(res brazeapi.Result, err error) string {
	switch {
	case errors.Is(err, brazeapi.ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, brazeapi.ErrForbidden):
		return "forbidden"
	case errors.Is(err, brazeapi.ErrUnreachable):
		return "unreachable"
	case res.Status != 0:
		return fmt.Sprintf("http_%d", res.Status)
	}
	return "request_failed"
}

// accept counts a successful request: objects listed in errors[] were not applied and are
// dead-lettered with Braze's reason; the rest were delivered.
func (w *Writer) accept(b *batch, res brazeapi.Result) {
	failed := map[int]string{}
	minor := map[string]int64{}
	for _, e := range res.Errors {
		minor[e.Type]++
		if e.InputArray == "attributes" && e.Index >= 0 && e.Index < b.len() {
			failed[e.Index] = e.Type
		}
	}
	for i, typ := range failed {
		w.dead.write(deadLetterLine{Table: b.table, Row: b.rows[i], Key: b.keys[i], Reason: "braze_minor_error",
			Detail: typ, Status: res.Status, Object: b.object(i)})
	}
	sent := int64(b.len() - len(failed))
	w.tally.Update(func(r *report.Report) {
		r.UsersSent += sent
		r.EstimatedDataPoints += b.points
		if len(failed) > 0 {
			r.RowsRejected["braze_minor_error"] += int64(len(failed))
		}
		for k, v := range minor {
			r.MinorErrors[k] += v
		}
	})
}

// abandon dead-letters a batch that will not be sent.
func (w *Writer) abandon(b *batch, reason string, cause error) {
	b.finish()
	w.deadLetterAll(b, reason, cause.Error(), 0)
}

func (w *Writer) deadLetterAll(b *batch, reason, detail string, status int) {
	for i := range b.len() {
		w.dead.write(deadLetterLine{Table: b.table, Row: b.rows[i], Key: b.keys[i], Reason: reason,
			Detail: detail, Status: status, Object: b.object(i)})
	}
	n := int64(b.len())
	w.tally.Update(func(r *report.Report) { r.RowsRejected[reason] += n })
}
