package destination

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
)

// work sends batches until the queue closes. With a state to commit to, each worker has a second
// goroutine that records the answers: committing what Braze accepted waits for the state's log to
// reach the disk (and for other answers to share that write), and the worker sends its next
// request meanwhile. So a worker holds at most two batches — one on the wire, one being recorded —
// and the state's durability costs the run no requests' worth of time. Without state, recording
// never waits, and the worker records its answers itself (a hand-off per request saved).
func (w *Writer) work() {
	defer w.wg.Done()
	if w.store == nil || w.dry != nil {
		for b := range w.queue {
			w.send(b)
			w.record(b)
		}
		return
	}
	answers := make(chan *batch) // unbuffered: at most one batch waits to be recorded per worker
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for b := range answers {
			w.record(b)
		}
	}()
	for b := range w.queue {
		w.send(b)
		answers <- b
	}
	close(answers)
	<-recorded
}

// record ends a sent batch: an accepted answer is committed and counted (accept), then the batch's
// users leave the pending and in-flight sets, in that order, so that the next object for a user is
// diffed against, and dispatched after, the state that records this one.
func (w *Writer) record(b *batch) {
	if b.accepted != nil {
		w.accept(b, *b.accepted)
		b.accepted = nil
	}
	w.answered(b)
	w.eventsAnswered(b)
	w.flight.release(b)
	b.release()
}

// send delivers one batch and accounts for each of its rows.
func (w *Writer) send(b *batch) {
	if err := w.ctx.Err(); err != nil {
		w.deadLetterAll(b, w.stopReason(), err.Error(), 0, nil)
		return
	}
	body := b.finish()
	if w.dry != nil {
		w.sendDry(b, body)
		return
	}
	if b.ev != nil {
		w.sendEvents(b, body) // events and purchases: sent once (events.go)
		return
	}
	res, err := w.api.Track(w.ctx, body)
	w.countAttempts(res)
	if err != nil {
		w.failBatch(b, res, err)
		return
	}
	b.answer = res
	b.accepted = &b.answer // recorded (committed, counted) by the worker's record goroutine
}

// countAttempts adds one request's tries to the report.
func (w *Writer) countAttempts(res brazeapi.Result) {
	w.tally.Update(func(r *report.Report) {
		r.Requests += int64(res.Attempts)
		r.Retries += int64(max(0, res.Attempts-1))
		r.RateLimited += int64(res.RateLimited)
		r.BytesSent += res.BytesSent
	})
}

// failBatch dead-letters every row of a request that did not succeed. Auth failures and an
// unreachable endpoint end the run: no later request could succeed. Whether a failed request was
// applied is sometimes unknown (a reset after the last try); its rows are dead-lettered all the same,
// because re-sending attribute sets is safe and the file is the list of what to re-send.
func (w *Writer) failBatch(b *batch, res brazeapi.Result, err error) {
	if brazeapi.Fatal(err) || errors.Is(err, brazeapi.ErrUnreachable) {
		w.setFatal(err)
	}
	reason := failReason(res, err)
	if w.ctx.Err() != nil && !brazeapi.Fatal(err) && !errors.Is(err, brazeapi.ErrUnreachable) {
		reason = w.stopReason()
	}
	w.deadLetterAll(b, reason, err.Error(), res.Status, res.Errors)
}

func failReason(res brazeapi.Result, err error) string {
	switch {
	case errors.Is(err, brazeapi.ErrDrained):
		return ReasonCancelled
	case errors.Is(err, brazeapi.ErrUnauthorized):
		return ReasonUnauthorized
	case errors.Is(err, brazeapi.ErrForbidden):
		return ReasonForbidden
	case errors.Is(err, brazeapi.ErrUnreachable):
		return ReasonUnreachable
	case errors.Is(err, brazeapi.ErrNotSuccess):
		return ReasonNotSuccess
	case res.Status != 0:
		return fmt.Sprintf("http_%d", res.Status)
	}
	return ReasonFailed
}

// stopReason names why requests are being abandoned: the fatal error's class, else cancellation.
func (w *Writer) stopReason() string {
	if err := w.fatalErr(); err != nil {
		if r := failReason(brazeapi.Result{}, err); r != ReasonFailed {
			return r
		}
		return ReasonRunFailed
	}
	return ReasonCancelled
}

// accept counts a successful request: objects listed in errors[] (by input_array and index) were not
// applied and are dead-lettered with Braze's reason; the rest were delivered. Errors in the legacy
// plain-string shape carry no index: they are counted as minor errors, and the objects stay delivered,
// since Braze applies every object without an error (docs/braze-api.md §3.2).
func (w *Writer) accept(b *batch, res brazeapi.Result) {
	if b.removal {
		w.acceptRemovals(b, res) // mirror mode: no row behind these objects (mirror_send.go)
		return
	}
	failed, minor := objectErrors(b, res.Errors)
	var nFailed int64
	if err := w.commitAccepted(b, failed); err != nil {
		// Braze applied these users but the state does not say so: the next run sends them again,
		// which is safe; going on would pile up more such users, so the run stops here.
		w.setFatal(err)
	}
	var sent, merged, points int64
	for i := range b.entries {
		e := &b.entries[i]
		if failed[i] != "" {
			nFailed += e.rows()
			w.deadLetterEntry(b, i, ReasonMinorError, failed[i], res.Status)
			continue
		}
		sent++
		merged += e.rows() - 1
		points += e.points
	}
	w.tally.Update(func(r *report.Report) {
		r.UsersSent += sent
		r.RowsMerged += merged
		r.EstimatedDataPoints += points
		if nFailed > 0 {
			r.RowsRejected[ReasonMinorError] += nFailed
		}
		for k, v := range minor {
			r.MinorErrors[k] += v
		}
	})
}

// objectErrors reads Braze's errors[] for a batch: failed[i] is the error type of the batch's
// object i (by input_array and index; "" when it was applied) — every type Braze gave for it,
// joined with "; ", so the dead-letter line says each reason — and minor counts every error by
// type, the legacy plain-string ones included.
func objectErrors(b *batch, errs []brazeapi.ObjectError) (failed []string, minor map[string]int64) {
	failed, minor = make([]string, b.len()), map[string]int64{}
	for _, e := range errs {
		minor[e.Type]++
		if e.InputArray != b.inputArray() || e.Index < 0 || e.Index >= b.len() {
			continue
		}
		switch f := failed[e.Index]; {
		case f == "":
			failed[e.Index] = e.Type
		case !slices.Contains(strings.Split(f, "; "), e.Type):
			failed[e.Index] = f + "; " + e.Type
		}
	}
	return failed, minor
}

// abandon dead-letters a batch that will not be sent, and releases it.
func (w *Writer) abandon(b *batch, cause error) {
	if b == nil {
		return
	}
	w.deadLetterAll(b, w.stopReason(), cause.Error(), 0, nil)
	w.answered(b)
	w.eventsAnswered(b)
	b.release()
}

// deadLetterAll writes one line per row of b. When a fatal answer listed per-object errors (the
// all-invalid 400, docs/braze-api.md §3.3), each object's line carries its own error type.
func (w *Writer) deadLetterAll(b *batch, reason, detail string, status int, objErrs []brazeapi.ObjectError) {
	if b.removal {
		w.dropRemovals(b, reason, detail, status, objErrs) // mirror mode (mirror_send.go)
		return
	}
	perObject := map[int]string{}
	for _, e := range objErrs {
		if e.InputArray == b.inputArray() && e.Index >= 0 {
			perObject[e.Index] = e.Type
		}
	}
	for i := range b.entries {
		d := detail
		if t, ok := perObject[i]; ok {
			d = t
		}
		w.deadLetterEntry(b, i, reason, d, status)
	}
	n := b.rowCount()
	w.tally.Update(func(r *report.Report) { r.RowsRejected[reason] += n })
}

// deadLetterEntry writes the lines of object i (one per row folded into it); the caller counts them.
func (w *Writer) deadLetterEntry(b *batch, i int, reason, detail string, status int) {
	e := &b.entries[i]
	obj := b.object(i)
	e.eachRow(func(row int64) {
		l := DeadLetterLine{Table: b.table, Row: row, Key: b.user(i), Reason: reason, Detail: detail,
			Status: status, Attributes: obj}
		if b.ev != nil { // an event or a purchase: named as such, to replay into its own array
			l.Attributes, l.InputArray, l.Object = nil, b.ev.array, obj
		}
		if e.rows() > 1 {
			l.MergedRows = int(e.rows())
		}
		if err := w.dead.write(l); err != nil {
			w.setFatal(err)
		}
	})
}

// deadLetter writes and counts one rejected row.
func (w *Writer) deadLetter(reason string, l DeadLetterLine) {
	if err := w.dead.write(l); err != nil {
		w.setFatal(err)
	}
	w.tally.Update(func(r *report.Report) { r.RowsRejected[reason]++ })
}

// userOf strips the key kind from an in-flight key.
func userOf(key string) string {
	if _, user, ok := strings.Cut(key, "\x00"); ok {
		return user
	}
	return key
}
