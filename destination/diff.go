package destination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/brazesync/brazesync/destination/state"
)

// Diffing rows against the state (package state, docs/state.md).
//
// Each row's attributes are hashed and compared with what Braze last accepted for the user: first
// the run's own objects for that user still waiting for an answer (pending), then the store. An
// attribute Braze already holds is left out; the export flag goes only to users who do not have it
// yet; a row with nothing left is not sent (rows_unchanged). The object that is left carries the
// hashes it sends, and they are committed to the store only once Braze accepted that object
// (commitAccepted), so rejected, failed and unsent users keep their old state.
//
// Pending matters for correctness, not just for saving: a user's second row, diffed against the
// store alone while the first is still in flight, would drop a value equal to the stored one even
// though the first row is about to change it — and the first row would win.
//
// Rows are looked up through a View of the store (one iterator, cheap per row when rows arrive in
// or near key order), renewed every viewRows rows. A view does not see commits made after it was
// opened, so a user's pending entry outlives its answer: it is dropped only when a view that sees
// its commit replaces the old one (or at once when nothing of it was committed).

// viewRows is how many rows one View serves before it is renewed: it bounds the pending entries
// kept for commits the view cannot see.
const viewRows = 8192

// tableDiff is the state of one table's namespace during the run.
type tableDiff struct {
	space state.Space
	view  state.View        // nil until the first row, and when the namespace has no state
	rows  int               // rows looked up through view
	rec   state.Record      // scratch for Lookup (writer goroutine)
	names map[string]string // quoted member name -> attribute name (writer goroutine)
	byPos []memberName      // the names of the last row's members, by position (attrName)

	// pending is the writer goroutine's alone: workers reach a user's entry only through the
	// objects that carry it (entry.pend), and only its atomic counters.
	pending pendingSet
	// settled lists, in answer order, the entries whose objects have all been answered: renew
	// drops from the front those its new view sees, instead of sweeping every entry.
	settleMu sync.Mutex
	settled  []settledUser
	scratch  []settledUser // renew's

	mirror mirrorStart // the namespace when the run opened it (mirror_plan.go)
	// fresh: the users placed so far, when the namespace held no record as the run opened it
	// (freshfilter.go); nil otherwise, and once it is full.
	fresh *freshFilter
}

// pendingUser is what the run has placed for one user and the current view may not show: objects
// not yet answered, and accepted ones committed after the view was opened. An entry whose objects
// were all answered and none committed is inert: it says nothing, and goes at the next renew.
type pendingUser struct {
	key    []byte       // userKey.text
	hash   uint64       // userKey.hash
	next   *pendingUser // the next entry whose key has the same hash (pendingSet)
	listed bool         // in the pending set (false once dropped)
	attrs  []state.Attr // the latest hash placed per attribute
	flag   bool         // an object with the export flag is among them
	// Set by the workers as Braze answers:
	objects   atomic.Int32  // objects placed and not yet answered (merged rows share one)
	committed atomic.Uint64 // a store version at or after the last commit of its objects; 0: none
}

// live reports whether the entry says anything: an object unanswered, or one committed.
func (p *pendingUser) live() bool { return p.objects.Load() > 0 || p.committed.Load() != 0 }

// settledUser is one entry of tableDiff.settled: the user's entry, and the version it settled at.
type settledUser struct {
	p         *pendingUser
	committed uint64
}

// rowUpdate is what one placed row will commit once Braze accepts its object.
type rowUpdate struct {
	d     *tableDiff
	attrs []state.Attr // names and hashes of the attributes the object carries
	flag  bool         // the object carries the export flag
	// absent: the user has no record, and the run has committed none for it (see state.Update.New).
	absent bool
	// entry is the user's pending entry when the row was diffed (nil: none), for placed: nothing
	// drops entries between a row's diff and its placing.
	entry *pendingUser
}

// openState opens the state folder, read-only for a dry run (which commits nothing); with diff off
// there is none.
func (w *Writer) openState(runID string) error {
	if !*w.spec.Diff {
		return nil
	}
	st, err := openStateStore(w.name, w.spec, runID, w.log, w.tally) // the folder, or the warehouse state (stateopen.go)
	if errors.Is(err, state.ErrNoState) {
		return nil // a dry run before any real run: every user is new
	}
	if err != nil {
		return stateError{err}
	}
	w.store = st
	return nil
}

// stateError marks a state folder that cannot be used (IsConfigError) and reads as its cause,
// which already names the folder and the fix.
type stateError struct{ err error }

func (e stateError) Error() string        { return e.err.Error() }
func (e stateError) Unwrap() error        { return e.err }
func (e stateError) Is(target error) bool { return target == errStateUnusable }

// closeState releases the state folder (once).
func (w *Writer) closeState() error {
	if w.store == nil {
		return nil
	}
	for _, d := range w.diffs {
		d.close()
	}
	err := w.store.Close()
	w.store = nil
	if err != nil {
		return fmt.Errorf("closing the state: %w", err)
	}
	return nil
}

// diffFor returns the diff of a table's namespace, opening it on first use; nil when state is off.
func (w *Writer) diffFor(ctx context.Context, table, keyKind string) (*tableDiff, error) {
	if w.store == nil {
		return nil, nil
	}
	id := table + "\x00" + keyKind
	if d, ok := w.diffs[id]; ok {
		return d, nil
	}
	ns := state.Namespace{Destination: w.name, Endpoint: endpointHost(w.spec.Endpoint), Table: table,
		KeyKind: keyKind, ExportAttribute: *w.spec.ExportAttribute}
	if ns.ExportAttribute != "" {
		ns.ExportValue = w.spec.ExportValue
	}
	sp, err := w.store.Space(ctx, ns)
	if errors.Is(err, state.ErrNoState) {
		sp = nil // dry run: a namespace no run has committed to
	} else if err != nil {
		return nil, fmt.Errorf("opening the state of table %s: %w", table, err)
	}
	d := &tableDiff{space: sp, names: map[string]string{}, pending: newPendingSet()}
	if sp != nil {
		if d.mirror, err = startOf(ctx, sp, w.store); err != nil { // what mirror mode judges the run by
			return nil, err
		}
		if d.mirror.users == 0 {
			d.fresh = newFreshFilter()
		}
	}
	w.diffs[id] = d
	return d, nil
}

// endpointHost is the host of the REST endpoint: another Braze instance is another workspace.
func endpointHost(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return endpoint
}

// diffRow rewrites w.obj — the encoder's members after '{', identifier first — into the object to
// send, without what Braze already holds, and returns what it will commit. keep is false when
// nothing is left. It counts the attributes and data points left out.
func (w *Writer) diffRow(d *tableDiff, key userKey, user []byte) (obj []byte, u rowUpdate, points int64, keep bool, err error) {
	w.members, err = objectMembers(append(w.obj, '}'), w.members[:0])
	if err != nil || len(w.members) == 0 {
		return nil, u, 0, false, fmt.Errorf("diffing a row: %w", errBadObject)
	}
	found, placedBefore, err := d.lookupRow(key, user)
	if err != nil {
		return nil, u, 0, false, err
	}
	if !found {
		d.rec.Attrs, d.rec.Flagged = d.rec.Attrs[:0], false
	}
	var entry *pendingUser
	if placedBefore {
		entry = d.pending.find(key)
	}
	p := entry
	if p != nil && !p.live() {
		p = nil
	}
	// No record in the view and nothing of the run's pending: every commit of this user is
	// visible to the view (renew keeps the others pending), so the user has no record at all.
	absent := d.space != nil && !found && p == nil
	w.upd = w.upd[:0]
	out := append(append(append(w.diffed[:0], '{'), w.members[0].name...), ':')
	out = append(out, w.members[0].value...)
	for i, m := range w.members[1:] {
		name := d.attrName(i, m.name)
		h := state.HashValue(m.value)
		if !w.full && w.holds(p, &d.rec, name, h) {
			w.attrsUnchanged++
			continue
		}
		out = append(append(append(append(out, ','), m.name...), ':'), m.value...)
		w.upd = append(w.upd, state.Attr{Name: name, Hash: h})
	}
	flag := *w.spec.ExportAttribute != "" && (w.full || !w.flagged(p, &d.rec))
	if flag {
		points++
		out = append(out, w.suffix...)
	} else {
		if *w.spec.ExportAttribute != "" {
			w.pointsSaved++
		}
		out = append(out, w.suffixNoFlag...)
	}
	w.diffed = out
	w.pointsSaved += int64(len(w.members) - 1 - len(w.upd))
	if len(w.upd) == 0 && !flag {
		return nil, u, 0, false, nil
	}
	return out, rowUpdate{d: d, attrs: w.upd, flag: flag, absent: absent, entry: entry}, points + int64(len(w.upd)), true, nil
}

// lookupRow is lookup for a row about to be diffed: in a namespace that was empty, a user the run
// has not placed before has no record and no pending entry, and is not looked up at all
// (placedBefore false).
func (d *tableDiff) lookupRow(key userKey, user []byte) (found, placedBefore bool, err error) {
	if d.space != nil && d.fresh != nil && !d.fresh.mayHave(key.hash) {
		return false, false, d.advance()
	}
	found, err = d.lookup(user)
	return found, true, err
}

// lookup reads the user's record into d.rec through the current view, renewing it as needed.
func (d *tableDiff) lookup(user []byte) (bool, error) {
	if d.space == nil {
		return false, nil
	}
	if err := d.advance(); err != nil {
		return false, err
	}
	return d.view.Lookup(user, &d.rec)
}

// advance counts a row against the current view, renewing the view every viewRows rows. Rows
// not looked up count too: the renewal is what drops the pending entries a view sees, so the
// pending set stays bounded however the rows were answered.
func (d *tableDiff) advance() error {
	if d.view == nil || d.rows >= viewRows {
		if err := d.renew(); err != nil {
			return err
		}
	}
	d.rows++
	return nil
}

// renew replaces the view with a current one and drops the pending entries it now sees.
func (d *tableDiff) renew() error {
	if d.view != nil {
		_ = d.view.Close()
		d.view = nil
	}
	v, err := d.space.View()
	if err != nil {
		return err
	}
	d.view, d.rows = v, 0
	d.settleMu.Lock()
	n := 0
	for n < len(d.settled) && d.settled[n].committed <= v.Version() {
		n++
	}
	d.scratch = append(d.scratch[:0], d.settled[:n]...)
	d.settled = append(d.settled[:0], d.settled[n:]...)
	d.settleMu.Unlock()
	for _, s := range d.scratch {
		// An entry placed again since it settled is pending (its next answer settles it anew), and
		// one committed again since waits for a later view: only those this view sees go.
		p := s.p
		if p.listed && p.objects.Load() == 0 && p.committed.Load() <= v.Version() {
			d.pending.drop(p)
		}
	}
	return nil
}

// close releases the view.
func (d *tableDiff) close() {
	if d.view != nil {
		_ = d.view.Close()
		d.view = nil
	}
}

// holds reports whether Braze already holds value hash h for the attribute: the run's pending
// object for the user if it carries the attribute, else the store (unless older than refresh_after).
func (w *Writer) holds(p *pendingUser, rec *state.Record, name string, h state.Hash) bool {
	if p != nil {
		for i := range p.attrs {
			if p.attrs[i].Name == name {
				return p.attrs[i].Hash == h
			}
		}
	}
	a := rec.Attr(name)
	return a != nil && a.Hash == h && w.fresh(a.SentAt)
}

// flagged reports whether the user has the export flag: placed in this run, or recorded (and
// recent enough for refresh_after).
func (w *Writer) flagged(p *pendingUser, rec *state.Record) bool {
	return (p != nil && p.flag) || (rec.Flagged && w.fresh(rec.FlaggedAt))
}

// fresh reports whether something sent at sentAt (Unix seconds) needs no refresh.
func (w *Writer) fresh(sentAt int64) bool { return w.refresh <= 0 || w.now-sentAt < w.refresh }

// attrName returns the attribute name of the quoted member name at position i of a row, without
// allocating after the first time a name is seen. Rows of one table carry their members in one
// order, so the name at the same position last time is almost always the one: a byte comparison
// instead of a map lookup per attribute.
func (d *tableDiff) attrName(i int, quoted []byte) string {
	if i < len(d.byPos) && string(d.byPos[i].quoted) == string(quoted) {
		return d.byPos[i].name
	}
	n, ok := d.names[string(quoted)]
	if !ok {
		if err := json.Unmarshal(quoted, &n); err != nil {
			n = string(quoted) // not reachable for encoder output; keeps the name unique all the same
		}
		d.names[string(quoted)] = n
	}
	for len(d.byPos) <= i {
		d.byPos = append(d.byPos, memberName{})
	}
	d.byPos[i] = memberName{quoted: append(d.byPos[i].quoted[:0], quoted...), name: n}
	return n
}

// memberName is one entry of tableDiff.byPos: a quoted member name and its attribute name.
type memberName struct {
	quoted []byte
	name   string
}

// placed records an object placed for the user (newObject: not merged into one already placed)
// and returns the user's entry, which the object carries until it is answered.
func (d *tableDiff) placed(key userKey, u rowUpdate, newObject bool) *pendingUser {
	if d.fresh != nil {
		if d.fresh.full() {
			d.fresh = nil // it can take no more users: every row is looked up from here on
		} else {
			d.fresh.add(key.hash)
		}
	}
	p := u.entry
	switch {
	case p == nil:
		p = d.pending.add(key, len(u.attrs))
	case !p.live():
		p.attrs, p.flag = p.attrs[:0], false // inert: what it held was never committed
	}
	if newObject {
		p.objects.Add(1)
	}
	p.flag = p.flag || u.flag
	if len(p.attrs) == 0 {
		p.attrs = append(p.attrs, u.attrs...) // a user's first object: nothing to replace
		return p
	}
	for _, a := range u.attrs {
		p.attrs = setAttr(p.attrs, a)
	}
	return p
}

// setAttr sets a's entry in attrs (by name), appending it if absent.
func setAttr(attrs []state.Attr, a state.Attr) []state.Attr {
	if i := attrIndex(attrs, a.Name); i >= 0 {
		attrs[i] = a
		return attrs
	}
	return append(attrs, a)
}

// attrIndex is the index of name's entry in attrs, or -1.
func attrIndex(attrs []state.Attr, name string) int {
	for i := range attrs {
		if attrs[i].Name == name {
			return i
		}
	}
	return -1
}

// answered ends the pending objects of a batch, whatever became of them. A user none of whose
// objects was committed goes back to the store at once; one with a commit stays pending until a
// view sees that commit (renew).
func (w *Writer) answered(b *batch) {
	if b.diff == nil {
		return
	}
	d := b.diff
	settled := b.settled[:0]
	for i := range b.entries {
		e := &b.entries[i]
		p := e.pend
		if p == nil {
			continue // a removal (mirror mode) has no row behind it
		}
		e.pend = nil
		if e.committed {
			raise(&p.committed, b.committedAt)
		}
		if p.objects.Add(-1) == 0 {
			settled = append(settled, settledUser{p: p, committed: p.committed.Load()})
		}
	}
	b.settled = settled
	if len(settled) > 0 {
		d.settleMu.Lock()
		d.settled = append(d.settled, settled...)
		d.settleMu.Unlock()
	}
}

// raise sets v to at least n.
func raise(v *atomic.Uint64, n uint64) {
	for {
		old := v.Load()
		if old >= n || v.CompareAndSwap(old, n) {
			return
		}
	}
}

// commitAccepted records in the store what Braze accepted of a batch: every object whose index
// had no per-object error. It returns when the commit is durable, before the batch's users leave
// the in-flight set, so a kill at any instant re-sends at most the objects in flight.
func (w *Writer) commitAccepted(b *batch, failed []string) error {
	if b.diff == nil || b.diff.space == nil || w.dry != nil {
		return nil
	}
	now := w.clock().Unix()
	ups := b.ups[:0]
	for i := range b.entries {
		if failed[i] != "" {
			continue
		}
		e := &b.entries[i]
		e.committed = true
		attrs := b.upd[e.upd[0]:e.upd[1]]
		for k := range attrs {
			attrs[k].SentAt = now
		}
		u := state.Update{Key: b.userBytes(i), Attrs: attrs, SentAt: now, New: e.absent && !b.removal}
		if e.flag {
			u.Flag = state.FlagSet
		}
		if b.removal {
			u.Flag = state.FlagClear // mirror mode: Braze accepted the label's removal
		}
		ups = append(ups, u)
	}
	b.ups = ups
	if err := b.diff.space.Commit(context.Background(), ups); err != nil {
		for i := range b.entries {
			b.entries[i].committed = false
		}
		return fmt.Errorf("recording Braze's answer in the state: %w", err)
	}
	b.committedAt = w.store.Version() // at or after this commit's version
	return nil
}
