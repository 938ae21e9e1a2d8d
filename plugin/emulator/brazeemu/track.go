package brazeemu

import (
	"net/http"
	"time"
)

// Input array names as they appear in errors[].input_array (docs/braze-api.md §3.2).
const (
	arrAttributes = "attributes"
	arrEvents     = "events"
	arrPurchases  = "purchases"
)

// ObjectError is one non-fatal errors[] item (docs/braze-api.md §3.2).
type ObjectError struct {
	Type       string `json:"type"`
	InputArray string `json:"input_array"`
	Index      int    `json:"index"`
}

// TrackResponse is the body of a /users/track answer (§3.1-3.3). The *_processed
// counts are present only for arrays that were in the request.
type TrackResponse struct {
	Message             string        `json:"message"`
	AttributesProcessed *int          `json:"attributes_processed,omitempty"`
	EventsProcessed     *int          `json:"events_processed,omitempty"`
	PurchasesProcessed  *int          `json:"purchases_processed,omitempty"`
	Errors              []ObjectError `json:"errors,omitempty"`
}

// trackRequest is the decoded body. Elements stay `any` so a non-object element is a
// per-object error, not a parse failure; a nil slice means the array was absent.
type trackRequest struct {
	Attributes []any `json:"attributes"`
	Events     []any `json:"events"`
	Purchases  []any `json:"purchases"`
}

// trackBatch is a validated request, ready to apply under the store lock.
type trackBatch struct {
	attrs      []attrOp
	events     []eventOp
	purchases  []purchaseOp
	errs       []ObjectError
	dropNested bool // an invalid nested value drops every nested update (§2.1)
}

// handleTrack implements POST /users/track. Decoding and validation run before the
// store lock is taken; the lock is held only to apply the batch.
func (e *Emulator) handleTrack(body []byte, fault *Fault) (int, any) {
	var req trackRequest
	sc := scratchPool.Get().(*decodeScratch)
	defer func() {
		sc.recycle() // after the batch is applied: nothing kept refers to the decoded values
		scratchPool.Put(sc)
	}()
	if err := decodeTrackScratch(body, &req, sc); err != nil {
		return http.StatusBadRequest, message(msgBadJSON)
	}
	nA, nE, nP := len(req.Attributes), len(req.Events), len(req.Purchases)
	e.stats.update(func(s *Stats) { s.ObjectsReceived += int64(nA + nE + nP) })
	if e.overCap(nA, nE, nP) {
		return http.StatusBadRequest, message(msgMaxInput)
	}
	if nA+nE+nP == 0 {
		return http.StatusBadRequest, message(msgNoValidData)
	}

	b := e.prepare(&req, fault, sc)
	if len(b.attrs)+len(b.events)+len(b.purchases) == 0 {
		e.stats.update(func(s *Stats) { s.MinorErrors += int64(len(b.errs)) })
		return http.StatusBadRequest, TrackResponse{Message: msgNoValidData, Errors: b.errs}
	}
	res := e.apply(&b)

	resp := TrackResponse{Message: "success", Errors: b.errs}
	if req.Attributes != nil {
		resp.AttributesProcessed = ptr(len(b.attrs))
	}
	if req.Events != nil {
		resp.EventsProcessed = ptr(len(b.events))
	}
	if req.Purchases != nil {
		resp.PurchasesProcessed = ptr(len(b.purchases))
	}
	e.stats.update(func(s *Stats) {
		s.AttributesProcessed += int64(len(b.attrs))
		s.Events += int64(len(b.events))
		s.Purchases += int64(len(b.purchases))
		s.MinorErrors += int64(len(b.errs))
		s.DataPoints += res.dataPoints
		s.ObjectsSkipped += res.skipped
		s.ProfilesCreated += res.created
		s.ValuesRejected += res.rejected
	})
	return http.StatusCreated, resp
}

func ptr[T any](v T) *T { return &v }

// overCap applies the object cap: total across arrays, or per array in legacy mode
// (docs/braze-api.md §1.5).
func (e *Emulator) overCap(nA, nE, nP int) bool {
	c := e.opts.ObjectCap
	if e.opts.LegacyPerArrayCap {
		return nA > c || nE > c || nP > c
	}
	return nA+nE+nP > c
}

// prepare validates every object. Invalid objects become errors[] items and are not
// applied at all; a FaultMinorErrors fault rejects its chosen objects the same way.
func (e *Emulator) prepare(req *trackRequest, fault *Fault, sc *decodeScratch) trackBatch {
	b := trackBatch{attrs: make([]attrOp, 0, len(req.Attributes))}
	injected := injectedErrors(fault)
	for i, raw := range req.Attributes {
		if msg, ok := injected[objKey{arrAttributes, i}]; ok {
			b.errs = append(b.errs, ObjectError{msg, arrAttributes, i})
			continue
		}
		op, nestedBad, errType := e.prepareAttributes(raw, sc)
		if errType != "" {
			b.errs = append(b.errs, ObjectError{errType, arrAttributes, i})
			continue
		}
		b.dropNested = b.dropNested || nestedBad
		b.attrs = append(b.attrs, op)
	}
	for i, raw := range req.Events {
		if msg, ok := injected[objKey{arrEvents, i}]; ok {
			b.errs = append(b.errs, ObjectError{msg, arrEvents, i})
			continue
		}
		op, errType := e.prepareEvent(raw)
		if errType != "" {
			b.errs = append(b.errs, ObjectError{errType, arrEvents, i})
			continue
		}
		b.events = append(b.events, op)
	}
	for i, raw := range req.Purchases {
		if msg, ok := injected[objKey{arrPurchases, i}]; ok {
			b.errs = append(b.errs, ObjectError{msg, arrPurchases, i})
			continue
		}
		op, errType := e.preparePurchase(raw)
		if errType != "" {
			b.errs = append(b.errs, ObjectError{errType, arrPurchases, i})
			continue
		}
		b.purchases = append(b.purchases, op)
	}
	return b
}

type objKey struct {
	array string
	index int
}

// defaultInjectedError is the errors[] type FaultMinorErrors uses without a Message.
const defaultInjectedError = "emulator: injected minor error"

func injectedErrors(f *Fault) map[objKey]string {
	if f == nil || f.Kind != FaultMinorErrors {
		return nil
	}
	arr := f.InputArray
	if arr == "" {
		arr = arrAttributes
	}
	msg := f.Message
	if msg == "" {
		msg = defaultInjectedError
	}
	idx := f.Indexes
	if len(idx) == 0 {
		idx = []int{0}
	}
	out := make(map[objKey]string, len(idx))
	for _, i := range idx {
		out[objKey{arr, i}] = msg
	}
	return out
}

type applyResult struct {
	dataPoints, skipped, created, rejected int64
}

// resolve finds (or creates) the profile an object names, counting created profiles and objects
// skipped because their user may not be created (_update_existing_only); s.mu is held.
func (res *applyResult) resolve(s *store, id ident, now time.Time) (uint32, bool) {
	i, created := s.resolveLocked(id, now)
	if i == noEntry {
		res.skipped++
		return 0, false
	}
	if created {
		res.created++
	}
	return i, true
}

// apply writes a validated batch: attributes first, then events, then purchases, the
// order Braze documents (§1.1).
func (e *Emulator) apply(b *trackBatch) applyResult {
	var res applyResult
	now := e.opts.Now()
	s := e.store
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b.attrs {
		op := &b.attrs[i]
		i, ok := res.resolve(s, op.id, now)
		if !ok {
			continue
		}
		e.applyAttributes(s, i, op, b.dropNested, &res)
		s.touchLocked(s.at(i))
	}
	for i := range b.events {
		op := &b.events[i]
		i, ok := res.resolve(s, op.id, now)
		if !ok {
			continue
		}
		ev := op.ev
		if ev.Time.After(now) {
			ev.Time = now.UTC() // a future time is replaced with "now" (§1.2)
		}
		x := s.extraOf(i)
		x.events = append(x.events, ev)
		res.dataPoints += 1 + int64(len(ev.Properties))
		s.touchLocked(s.at(i))
	}
	for i := range b.purchases {
		op := &b.purchases[i]
		i, ok := res.resolve(s, op.id, now)
		if !ok {
			continue
		}
		pu := op.p
		if pu.Time.After(now) {
			pu.Time = now.UTC()
		}
		x := s.extraOf(i)
		x.purchases = append(x.purchases, pu)
		res.dataPoints += 1 + int64(len(pu.Properties))
		s.touchLocked(s.at(i))
	}
	return res
}
