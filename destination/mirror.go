package destination

import (
	"context"
	"errors"
	"fmt"

	"github.com/brazesync/brazesync/destination/report"
)

// Mirror mode (docs/mirror.md): with write_mode overwrite-delete-stale, CloudQuery ends each
// table with DeleteStale. For every such table that ended cleanly, the users the state records as
// flagged by this destination and table, and that this run did not see, get
// {"<export_attribute>": {"remove": ["<export_value>"]}}; their state changes only once Braze
// accepted that object (commitAccepted), as for any attribute object.
//
// Removals run in Close, after every attribute request has been answered: only then is the set of
// users this run saw complete, and only then is it known whether the run failed, was cancelled or
// hit max_rejected_*. A guard that trips removes nobody from that table and counts the users it
// spared under its name (report.RemovalsRefused).

// Guards: the keys of the report's removals_refused.
const (
	// GuardSourceError: the host says the table's source reported errors (the runner, from the
	// source's error log lines); its rows may be incomplete.
	GuardSourceError = "source_error"
	// GuardRunFailed: the run failed (a fatal error here, or another source failed).
	GuardRunFailed = ReasonRunFailed
	// GuardCancelled: the run was cancelled, or its shutdown deadline passed.
	GuardCancelled = ReasonCancelled
	// GuardMaxRejected: more rows were dead-lettered than max_rejected_rows or max_rejected_ratio allow.
	GuardMaxRejected = "max_rejected"
	// GuardRatio: more than max_removal_ratio of the users flagged before would lose the label.
	GuardRatio = "max_removal_ratio"
	// GuardEmptyResult: an old label would be retired while the table's new label flags nobody.
	GuardEmptyResult = "empty_result"
	// GuardPushdown: the warehouse state without the spec's mirror field: the Snowflake source may
	// have held unchanged users back, and they would look departed.
	GuardPushdown = "pushdown"
)

// on_leave and on_label_change values.
const (
	OnLeaveUnflag        = "unflag"
	OnLeaveUnset         = "unset"
	OnLabelChangeRemove  = "remove_old"
	OnLabelChangeKeep    = "keep_old"
	defaultMaxRemovalRat = 0.5
)

// ErrRemovalRefused is returned by Close when a guard that the run did not already fail for
// refused a table's removals: the mass-removal ratio, a source that reported errors, an old label
// with nothing to replace it. Nobody was removed from that table.
var ErrRemovalRefused = errors.New("mirror mode removed nobody")

// staleTable is one DeleteStale message: a table whose sync ended, and why the host refuses its
// removals ("" when it does not).
type staleTable struct {
	table   string
	refused string
}

// mirrorRun is what mirror mode keeps during a run.
type mirrorRun struct {
	stale []staleTable
	errs  []error
}

func (s *Spec) setMirrorDefaults() {
	if s.OnLeave == "" {
		s.OnLeave = OnLeaveUnflag
	}
	if s.OnLabelChange == "" {
		s.OnLabelChange = OnLabelChangeRemove
	}
	if s.MaxRemovalRatio == nil {
		v := defaultMaxRemovalRat
		s.MaxRemovalRatio = &v
	}
}

func (s *Spec) validateMirror() error {
	var errs []error
	if s.OnLeave != OnLeaveUnflag && s.OnLeave != OnLeaveUnset {
		errs = append(errs, fmt.Errorf("on_leave: %q is not one of unflag, unset", s.OnLeave))
	}
	if s.OnLabelChange != OnLabelChangeRemove && s.OnLabelChange != OnLabelChangeKeep {
		errs = append(errs, fmt.Errorf("on_label_change: %q is not one of remove_old, keep_old", s.OnLabelChange))
	}
	if r := *s.MaxRemovalRatio; r < 0 || r > 1 || r != r {
		errs = append(errs, fmt.Errorf("max_removal_ratio: %v is outside 0..1", r))
	}
	return errors.Join(errs...)
}

// DeleteStale is CloudQuery's end-of-table message in overwrite-delete-stale mode (its default):
// the table's sync ended, so mirror mode may remove the label from the users it did not return.
func (w *Writer) DeleteStale(table string) { w.noteStale(table, "") }

// RefuseRemovals is DeleteStale marked by a host that knows the table must not be mirrored: its
// source reported errors, or the run failed or was cancelled (why is the guard's name). Nobody is
// removed; the users who would have been are counted under why.
func (w *Writer) RefuseRemovals(table, why string) {
	if why == "" {
		why = GuardRunFailed
	}
	w.noteStale(table, why)
}

func (w *Writer) noteStale(table, refused string) {
	if t := w.tables[table]; t != nil && t.ev != nil {
		return // an events or purchases table sets no label: there is nothing to remove (events.go)
	}
	for i, st := range w.mirror.stale {
		if st.table == table { // several sources may feed one table: refused if any refused
			if w.mirror.stale[i].refused == "" {
				w.mirror.stale[i].refused = refused
			}
			return
		}
	}
	w.mirror.stale = append(w.mirror.stale, staleTable{table: table, refused: refused})
}

// RefuseRemovals ends a table whose removals the host refuses (see Writer.RefuseRemovals).
func (s *Session) RefuseRemovals(table, why string) { s.w.RefuseRemovals(table, why) }

// mirrorErr is the error mirror mode adds to the run's, if any.
func (w *Writer) mirrorErr() error { return errors.Join(w.mirror.errs...) }

// refuseFor adds the error a guard brings to the run, when the run has none for it already.
func (w *Writer) refuseFor(guard string, err error) {
	switch guard {
	case GuardRatio, GuardSourceError, GuardEmptyResult, GuardPushdown:
		w.mirror.errs = append(w.mirror.errs, fmt.Errorf("%w: %w", ErrRemovalRefused, err))
	}
}

// mirrorPhase removes the label from the users who left each table that ended, once every
// attribute request has been answered (Close calls it with the workers stopped).
func (w *Writer) mirrorPhase(ctx context.Context) {
	if len(w.mirror.stale) == 0 {
		return
	}
	if reason := w.mirrorUnavailable(); reason != "" {
		w.note(reason)
		return
	}
	var plans []*removalPlan
	for _, st := range w.mirror.stale {
		ps, err := w.plansFor(ctx, st.table)
		if err != nil {
			w.note(fmt.Sprintf("mirror mode: table %s: reading the state: nobody removed", st.table))
			w.mirror.errs = append(w.mirror.errs, fmt.Errorf("planning removals for table %s: %w", st.table, err))
			continue
		}
		for _, p := range ps {
			if w.admit(ctx, p, st.refused) {
				plans = append(plans, p)
			}
		}
	}
	if len(plans) == 0 {
		return
	}
	w.sendRemovals(ctx, plans)
	w.retireLabels(ctx, plans)
}

// mirrorUnavailable says why this run cannot mirror at all, or "".
func (w *Writer) mirrorUnavailable() string {
	switch {
	case *w.spec.ExportAttribute == "":
		return "mirror mode: export_attribute is empty, so there is no label to remove: nobody removed"
	case !*w.spec.Diff:
		return "mirror mode needs the sync state to know who left (diff: true): nobody removed"
	case w.store == nil:
		return "" // a dry run before any real run: nothing is recorded, so nobody has left
	}
	return ""
}

// admit applies the guards to a plan: true when its removals may be sent. A refused plan's users
// are counted under the guard, with a note that says why and what to do.
func (w *Writer) admit(ctx context.Context, p *removalPlan, hostRefused string) bool {
	if p.users == 0 {
		return false
	}
	guard, why := hostRefused, ""
	switch {
	case guard == GuardSourceError:
		why = "the source reported errors for this table, so its rows may be incomplete"
	case guard == GuardCancelled:
		why = "the run was cancelled"
	case guard != "":
		why = "the run failed"
	default:
		guard, why = w.runGuard(ctx)
	}
	if guard == "" && w.spec.State.Backend == BackendSnowflake && !w.spec.Mirror {
		guard, why = GuardPushdown, "with state.backend snowflake the source may have held unchanged users back; "+
			"set mirror: true in the destination spec (brazesync sync sets it) so that it reads every row"
	}
	if guard == "" && p.retire && p.replacement == 0 {
		guard, why = GuardEmptyResult, fmt.Sprintf("the new label %s flags nobody in this table", w.spec.ExportValue)
	}
	if guard == "" && !p.retire && !w.spec.AllowMassRemoval {
		if limit := *w.spec.MaxRemovalRatio; float64(p.users) > limit*float64(p.flagged) {
			guard = GuardRatio
			why = fmt.Sprintf("%d of the %d users flagged before (%.1f%%) would lose it, more than max_removal_ratio %v; "+
				"if they really left, raise max_removal_ratio or run once with `brazesync sync --allow-mass-removal` "+
				"(allow_mass_removal: true in the destination spec under the CloudQuery CLI)",
				p.users, p.flagged, 100*float64(p.users)/float64(max(p.flagged, 1)), limit)
		}
	}
	if guard == "" {
		return true
	}
	msg := fmt.Sprintf("mirror mode: table %s: %s stays on %d users who left the query: %s", p.table, p.label, p.users, why)
	if p.retire {
		msg = fmt.Sprintf("mirror mode: table %s: the old label %s stays on %d users: %s", p.table, p.label, p.users, why)
	}
	w.tally.Update(func(r *report.Report) { r.AddRefused(guard, p.users) })
	w.note(msg)
	w.refuseFor(guard, errors.New(msg))
	return false
}

// runGuard is the guard the run itself trips, if any: after every attribute request was answered,
// a failed, cancelled or over-rejected run removes nobody.
func (w *Writer) runGuard(ctx context.Context) (guard, why string) {
	w.fatalMu.Lock()
	fatal, aborted := w.fatal, w.aborted
	w.fatalMu.Unlock()
	switch {
	case aborted || ctx.Err() != nil:
		return GuardCancelled, "the run was cancelled"
	case fatal != nil:
		return GuardRunFailed, "the run failed"
	}
	if err := w.spec.checkRejections(w.Progress()); err != nil {
		return GuardMaxRejected, "the run dead-lettered more rows than max_rejected_rows or max_rejected_ratio allow"
	}
	return "", ""
}

// note adds a line to the report's notes and the log.
func (w *Writer) note(msg string) {
	w.log.Warn().Msg(msg)
	w.tally.Update(func(r *report.Report) { r.Notes = append(r.Notes, msg) })
}
