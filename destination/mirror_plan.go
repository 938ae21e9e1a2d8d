package destination

import (
	"context"
	"fmt"
	"sort"

	"github.com/brazesync/brazesync/destination/state"
)

// mirrorStart is what a namespace held when this run opened it: the users flagged then (the
// denominator of max_removal_ratio) and the store version then. A record above that version was
// changed during the run, by this run (which saw its user) or by another run sharing the folder
// (the Action Hub's concurrent executions): mirror mode never removes such a user, since what it
// knows of them is newer than this run's start.
type mirrorStart struct {
	flagged int64
	users   int64
	version uint64
}

// startOf reads a namespace's mirrorStart. The version is read first: a commit landing between
// the two reads can only make the run spare a user, never remove one it should not.
func startOf(ctx context.Context, sp state.Space, st state.Store) (mirrorStart, error) {
	v := st.Version()
	info, err := sp.Info(ctx)
	if err != nil {
		return mirrorStart{}, fmt.Errorf("reading the state of %s: %w", sp.Namespace(), err)
	}
	return mirrorStart{flagged: info.Flagged, users: info.Users, version: v}, nil
}

// removalPlan is the removals of one namespace of a table that ended.
type removalPlan struct {
	table string
	ns    state.Namespace
	diff  *tableDiff // the namespace's records: this run's own (seen users) or opened for the plan
	start mirrorStart
	// retire: ns holds an old label of the table (export_value or export_attribute changed, with
	// on_label_change remove_old): it comes off everyone who still carries it, seen or not.
	retire bool
	unset  bool // on_leave unset: the attributes the state records go to null too
	label  string
	users  int64 // users the plan removes the label from
	// flagged is the users flagged when the run started (the ratio's denominator); replacement,
	// for a retirement, the users the table's current label flags now.
	flagged, replacement int64
}

// takes reports whether the plan removes the label from rec's user.
func (p *removalPlan) takes(rec *state.Record, seen bool) bool {
	return rec.Flagged && rec.Version <= p.start.version && (p.retire || !seen)
}

// plansFor finds the removals of a table: in every namespace of this destination, endpoint and
// table that records flagged users, those the plan takes. A namespace with the current label is
// mirrored (users not seen lose it); one with another label is retired, unless on_label_change
// is keep_old. Plans come counted, in namespace order.
func (w *Writer) plansFor(ctx context.Context, table string) ([]*removalPlan, error) {
	if w.store == nil {
		return nil, nil // a dry run before any real run: nobody is recorded, so nobody has left
	}
	infos, err := w.store.Namespaces(ctx)
	if err != nil {
		return nil, err
	}
	host := endpointHost(w.spec.Endpoint)
	var plans []*removalPlan
	var current int64
	for _, info := range infos {
		ns := info.Namespace
		if ns.Destination != w.name || ns.Endpoint != host || ns.Table != table || ns.ExportAttribute == "" {
			continue
		}
		same := ns.ExportAttribute == *w.spec.ExportAttribute && ns.ExportValue == w.spec.ExportValue
		if same {
			current += info.Flagged
		}
		if info.Flagged == 0 || (!same && w.spec.OnLabelChange == OnLabelChangeKeep) {
			continue
		}
		p, err := w.planFor(ctx, table, ns, !same)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	sort.SliceStable(plans, func(i, j int) bool { return !plans[i].retire && plans[j].retire })
	for _, p := range plans {
		p.replacement = current
		if err := p.count(ctx); err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// planFor builds the plan of one namespace. The run's own space of it is used when the run wrote
// rows of it, since only that space knows which users the run saw; otherwise (a table that sent
// no row, an old label) a space is opened now, in which nobody was seen.
func (w *Writer) planFor(ctx context.Context, table string, ns state.Namespace, retire bool) (*removalPlan, error) {
	d := w.diffOf(ns)
	if d == nil {
		sp, err := w.store.Space(ctx, ns)
		if err != nil {
			return nil, fmt.Errorf("opening the state of %s: %w", ns, err)
		}
		d = &tableDiff{space: sp, names: map[string]string{}, pending: newPendingSet()}
		if d.mirror, err = startOf(ctx, sp, w.store); err != nil {
			return nil, err
		}
	}
	return &removalPlan{table: table, ns: ns, diff: d, start: d.mirror, retire: retire,
		unset: !retire && w.spec.OnLeave == OnLeaveUnset, label: ns.ExportValue, flagged: d.mirror.flagged}, nil
}

// diffOf returns the run's diff of namespace ns, or nil when the run wrote no row of it.
func (w *Writer) diffOf(ns state.Namespace) *tableDiff {
	for _, d := range w.diffs {
		if d.space != nil && d.space.Namespace() == ns {
			return d
		}
	}
	return nil
}

// count sets p.users: a first pass over the namespace, so the guards can judge the plan whole
// before any removal is sent.
func (p *removalPlan) count(ctx context.Context) error {
	p.users = 0
	return p.diff.space.Scan(ctx, 0, func(rec *state.Record, seen bool) error {
		if p.takes(rec, seen) {
			p.users++
		}
		return nil
	})
}

// retireLabels forgets the namespaces of old labels that nobody carries any more: every removal
// of the old label was accepted, so the state has nothing left to say about it.
func (w *Writer) retireLabels(ctx context.Context, plans []*removalPlan) {
	if w.dry != nil {
		return
	}
	for _, p := range plans {
		if !p.retire {
			continue
		}
		info, err := p.diff.space.Info(ctx)
		if err != nil || info.Flagged > 0 {
			continue // some removals did not land: the next run sends them again
		}
		ns := p.ns
		if _, err := w.store.Reset(ctx, func(n state.Namespace) bool { return n == ns }); err != nil {
			w.log.Warn().Err(err).Str("table", p.table).Msg("forgetting an old label's state")
			continue
		}
		w.note(fmt.Sprintf("mirror mode: table %s: the old label %s was removed from every user who carried it, and forgotten",
			p.table, p.label))
	}
}
