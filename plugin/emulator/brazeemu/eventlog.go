package brazeemu

import (
	"net/http"
	"sort"
)

// Owner names the profile a recorded event or purchase belongs to.
type Owner struct {
	ExternalID string  `json:"external_id,omitempty"`
	BrazeID    string  `json:"braze_id"`
	Aliases    []Alias `json:"user_aliases,omitempty"`
	Email      string  `json:"email,omitempty"`
	Phone      string  `json:"phone,omitempty"`
}

// RecordedEvent is one stored event and the profile that holds it.
type RecordedEvent struct {
	Owner Owner `json:"user"`
	Event
}

// RecordedPurchase is one stored purchase and the profile that holds it.
type RecordedPurchase struct {
	Owner Owner `json:"user"`
	Purchase
}

// Events returns every recorded event (deep copies): profiles in Profiles order, each profile's
// events in the order they were recorded. A resent event appears twice, as in Braze (§1.2).
func (e *Emulator) Events() []RecordedEvent {
	var out []RecordedEvent
	e.store.eachWithExtra(func(o Owner, x *extra) {
		for _, ev := range x.events {
			ev.Properties = cloneMap(ev.Properties)
			out = append(out, RecordedEvent{Owner: o, Event: ev})
		}
	})
	return out
}

// Purchases returns every recorded purchase (deep copies), in the order of Events.
func (e *Emulator) Purchases() []RecordedPurchase {
	var out []RecordedPurchase
	e.store.eachWithExtra(func(o Owner, x *extra) {
		for _, pu := range x.purchases {
			pu.Properties = cloneMap(pu.Properties)
			out = append(out, RecordedPurchase{Owner: o, Purchase: pu})
		}
	})
	return out
}

// eachWithExtra calls fn, under the store lock, for every live profile holding an extra record
// (events and purchases live there), in Profiles order.
func (s *store) eachWithExtra(fn func(Owner, *extra)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	type item struct {
		owner Owner
		x     *extra
	}
	var items []item
	s.byBraze.each(func(i uint32) {
		x := s.extras[i]
		if x == nil || (len(x.events) == 0 && len(x.purchases) == 0) {
			return
		}
		o := Owner{ExternalID: s.extOf(i), BrazeID: s.brazeOf(i), Aliases: append([]Alias(nil), x.aliases...),
			Email: x.email, Phone: x.phone}
		items = append(items, item{o, x})
	})
	sort.Slice(items, func(a, b int) bool {
		if items[a].owner.ExternalID != items[b].owner.ExternalID {
			return items[a].owner.ExternalID < items[b].owner.ExternalID
		}
		return items[a].owner.BrazeID < items[b].owner.BrazeID
	})
	for _, it := range items {
		fn(it.owner, it.x)
	}
}

// controlEventLog serves GET /_emulator/events and GET /_emulator/purchases.
func (e *Emulator) controlEventLog(w http.ResponseWriter, which string) {
	if which == "events" {
		writeJSON(w, http.StatusOK, nonNil(e.Events()))
		return
	}
	writeJSON(w, http.StatusOK, nonNil(e.Purchases()))
}

// nonNil makes an empty log encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
