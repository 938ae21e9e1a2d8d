package destination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/schema"
)

// nullHash is the state's hash of an attribute set to null (on_leave unset): a user who comes
// back with a value differs from it, so the value is sent again.
var nullHash = state.HashValue([]byte("null"))

// errStopRemovals ends a plan's scan when the run stops.
var errStopRemovals = errors.New("removals stopped")

// sendRemovals sends the admitted plans' removals through a fresh set of workers (the attribute
// workers have ended), or writes them to dry_run_file in a dry run. It returns when every removal
// sent was answered, or the shutdown deadline (ctx) passed. Once the run is drained or cancelled
// no further removal starts; the users not reached are counted as refused for that reason.
func (w *Writer) sendRemovals(ctx context.Context, plans []*removalPlan) {
	var total int64
	for _, p := range plans {
		total += p.users
	}
	w.tally.Update(func(r *report.Report) { r.Phase, r.RemovalsQueued = report.PhaseRemoving, total })
	defer w.tally.Update(func(r *report.Report) { r.Phase = "" })
	if w.dry == nil {
		w.startWorkers()
		defer w.stopWorkers(ctx)
	}
	var handled int64
	for _, p := range plans {
		n, err := w.streamPlan(ctx, p)
		handled += n
		if errors.Is(err, errStopRemovals) {
			break
		}
		if err != nil {
			w.setFatal(fmt.Errorf("reading the state for the removals of table %s: %w", p.table, err))
			break
		}
	}
	if guard := w.stopGuard(ctx); guard != "" && total > handled {
		left := total - handled // users the phase never reached
		w.tally.Update(func(r *report.Report) { r.AddRefused(guard, left) })
	}
}

// streamPlan scans the plan's namespace again and emits its removals in requests of at most
// batch_size objects. It returns how many objects it emitted (sent, or refused because the run
// stopped).
func (w *Writer) streamPlan(ctx context.Context, p *removalPlan) (int64, error) {
	var n int64
	b := w.removalBatch(p)
	err := p.diff.space.Scan(ctx, 0, func(rec *state.Record, seen bool) error {
		if !p.takes(rec, seen) {
			return nil
		}
		obj, attrs := w.removalObject(p, rec)
		key := makeUserKey(nil, p.ns.KeyKind, rec.Key)
		if len(bodyPrefix)+len(obj)+len(bodySuffix) > w.spec.MaxRequestBytes {
			w.rejectRemovalObject(p, rec, obj)
			n++
			return nil
		}
		if b.len() >= w.spec.BatchSize || b.sizeWith(obj) > w.spec.MaxRequestBytes || b.holds(key) {
			n += int64(b.len())
			full := b
			b = nil // emit hands it on or releases it
			if !w.emit(ctx, full) {
				return errStopRemovals
			}
			b = w.removalBatch(p)
		}
		b.add(key, obj, -1, nil, int64(len(attrs))+1, attrs, false)
		return nil
	})
	switch {
	case b == nil:
	case err == nil && b.len() > 0:
		n += int64(b.len())
		if !w.emit(ctx, b) {
			err = errStopRemovals
		}
	default:
		b.release()
	}
	return n, err
}

func (w *Writer) removalBatch(p *removalPlan) *batch {
	b := newBatch(p.table, p.diff)
	b.removal = true
	return b
}

// removalObject renders the removal of rec's user: the identifier, under on_leave unset a null
// for every attribute the state records a value for, and the label's removal. It never creates
// a profile (_update_existing_only): a user Braze no longer has has nothing to lose.
func (w *Writer) removalObject(p *removalPlan, rec *state.Record) ([]byte, []state.Attr) {
	o := w.appendIdentifier(append(w.obj[:0], '{'), p.ns.KeyKind, rec.Key)
	var attrs []state.Attr
	if p.unset {
		for _, a := range rec.Attrs {
			if a.Hash == nullHash {
				continue // already null in Braze
			}
			o = append(appendJSONString(append(o, ','), a.Name), ":null"...)
			attrs = append(attrs, state.Attr{Name: a.Name, Hash: nullHash})
		}
	}
	o = appendJSONString(append(o, ','), p.ns.ExportAttribute)
	o = appendJSONString(append(o, `:{"remove":[`...), p.label)
	o = append(o, `]},"_update_existing_only":true}`...)
	w.obj = o
	return o, attrs
}

// appendIdentifier writes the identifier member of a user key of the given kind, as the encoder
// does (schema.Encoder): "external_id":"…", or the alias object with the spec's alias_label.
func (w *Writer) appendIdentifier(dst []byte, kind string, key []byte) []byte {
	if kind == schema.UserKeyUserAlias {
		dst = appendJSONString(append(dst, `"user_alias":{"alias_name":`...), string(key))
		dst = appendJSONString(append(dst, `,"alias_label":`...), w.spec.AliasLabel)
		return append(dst, '}')
	}
	return appendJSONString(append(appendJSONString(dst, kind), ':'), string(key))
}

// appendJSONString appends s as a JSON string (keys and names were checked when recorded).
func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}

// emit hands a full removal request on: to the workers, or to dry_run_file. false means the run
// stopped first: the request's users are counted as refused and the batch released.
func (w *Writer) emit(ctx context.Context, b *batch) bool {
	if guard := w.stopGuard(ctx); guard != "" {
		w.refuseBatch(b, guard)
		return false
	}
	if w.dry != nil {
		w.planDry(b)
		return true
	}
	select {
	case w.queue <- b:
		return true
	case <-ctx.Done():
	case <-w.ctx.Done():
	}
	w.refuseBatch(b, w.stopGuard(ctx))
	return false
}

// stopGuard is why removals must stop now: the run was drained, aborted or failed, or the
// shutdown deadline passed; "" while they may go on.
func (w *Writer) stopGuard(ctx context.Context) string {
	w.fatalMu.Lock()
	fatal, aborted := w.fatal, w.aborted
	w.fatalMu.Unlock()
	switch {
	case aborted || ctx.Err() != nil:
		return GuardCancelled
	case fatal != nil || w.ctx.Err() != nil:
		return GuardRunFailed
	}
	return ""
}

func (w *Writer) refuseBatch(b *batch, guard string) {
	n := int64(b.len())
	w.tally.Update(func(r *report.Report) { r.AddRefused(guard, n) })
	b.release()
}

// planDry writes a removal request to dry_run_file: the plan lists the removals a real run would
// send, and the report counts them as planned.
func (w *Writer) planDry(b *batch) {
	body := b.finish()
	w.dry.mu.Lock()
	_, err := w.dry.w.Write(append(body, '\n'))
	w.dry.mu.Unlock()
	n := int64(b.len())
	var points int64
	for i := range b.entries {
		points += b.entries[i].points
	}
	b.release()
	if err != nil {
		w.setFatal(fmt.Errorf("writing dry_run_file: %w", err))
		w.tally.Update(func(r *report.Report) { r.AddRefused(GuardRunFailed, n) })
		return
	}
	w.tally.Update(func(r *report.Report) {
		r.RemovalsPlanned += n
		r.EstimatedDataPoints += points
	})
}

// startWorkers starts the workers of the removal phase (Close has ended the attribute ones).
func (w *Writer) startWorkers() {
	w.queue = make(chan *batch, w.spec.Concurrency)
	for range w.spec.Concurrency {
		w.wg.Add(1)
		go w.work()
	}
}

// stopWorkers waits for the removal requests to end; past ctx's deadline the ones on the wire are
// abandoned (their users keep the label, and the state says so).
func (w *Writer) stopWorkers(ctx context.Context) {
	close(w.queue)
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		w.cancel()
		<-done
	}
}

// acceptRemovals accounts for a removal request Braze answered 2xx: objects listed in errors[]
// were not applied and are dead-lettered with Braze's reason; the others are committed as
// FlagClear (commitAccepted) and counted as removed.
func (w *Writer) acceptRemovals(b *batch, res brazeapi.Result) {
	failed, minor := objectErrors(b, res.Errors)
	if err := w.commitAccepted(b, failed); err != nil {
		w.setFatal(err) // Braze removed the label but the state does not say so: stop (see accept)
	}
	var removed, rejected, points int64
	for i := range b.entries {
		if failed[i] != "" {
			rejected++
			w.deadLetterRemoval(b, i, ReasonMinorError, failed[i], res.Status)
			continue
		}
		removed++
		points += b.entries[i].points
	}
	w.tally.Update(func(r *report.Report) {
		r.UsersRemoved += removed
		r.EstimatedDataPoints += points
		r.AddRemovalRejected(ReasonMinorError, rejected)
		for k, v := range minor {
			r.MinorErrors[k] += v
		}
	})
}

// dropRemovals accounts for a removal request that did not succeed. One never sent because the
// run stopped is refused (its users keep the label; the next clean run removes it); one Braze or
// the network failed is rejected, each object dead-lettered with the reason.
func (w *Writer) dropRemovals(b *batch, reason, detail string, status int, objErrs []brazeapi.ObjectError) {
	n := int64(b.len())
	if reason == ReasonCancelled || reason == ReasonRunFailed {
		w.tally.Update(func(r *report.Report) { r.AddRefused(reason, n) })
		return
	}
	perObject := map[int]string{}
	for _, e := range objErrs {
		if e.InputArray == "attributes" && e.Index >= 0 {
			perObject[e.Index] = e.Type
		}
	}
	for i := range b.entries {
		d := detail
		if t, ok := perObject[i]; ok {
			d = t
		}
		w.deadLetterRemoval(b, i, reason, d, status)
	}
	w.tally.Update(func(r *report.Report) { r.AddRemovalRejected(reason, n) })
}

// deadLetterRemoval writes the line of removal object i: row -1 (no row asked for it), the
// object as built, marked as a removal.
func (w *Writer) deadLetterRemoval(b *batch, i int, reason, detail string, status int) {
	l := DeadLetterLine{Table: b.table, Row: -1, Key: b.user(i), Reason: reason, Detail: detail, Status: status,
		Attributes: b.object(i), Removal: true}
	if err := w.dead.write(l); err != nil {
		w.setFatal(err)
	}
}

// rejectRemovalObject dead-letters a removal that alone exceeds max_request_bytes (on_leave unset
// with very many attributes).
func (w *Writer) rejectRemovalObject(p *removalPlan, rec *state.Record, obj []byte) {
	l := DeadLetterLine{Table: p.table, Row: -1, Key: string(rec.Key), Reason: ReasonTooLarge, Removal: true,
		Detail: fmt.Sprintf("removal object of %d bytes exceeds max_request_bytes %d", len(obj), w.spec.MaxRequestBytes)}
	if err := w.dead.write(l); err != nil {
		w.setFatal(err)
	}
	w.tally.Update(func(r *report.Report) { r.AddRemovalRejected(ReasonTooLarge, 1) })
}
