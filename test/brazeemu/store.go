package brazeemu

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// store holds profiles and the indexes used to resolve identifiers (braze-api.md §1.3).
// One mutex guards it; callers decode and validate requests before taking it, so it is
// held only while writes are applied.
type store struct {
	mu      sync.Mutex
	seq     int64 // bumps on every write; orders "most recently updated"
	nextID  int64 // braze_id counter
	byExt   map[string]*entry
	byBraze map[string]*entry
	byAlias map[Alias]*entry
	byEmail map[string][]*entry // key: lower-cased email
	byPhone map[string][]*entry
}

type entry struct {
	p       Profile
	updated int64
}

type identKind int

const (
	identExternalID identKind = iota + 1
	identBrazeID
	identAlias
	identEmail
	identPhone
)

// ident is the identifier an object resolved to, plus whether it may create a profile.
type ident struct {
	kind       identKind
	value      string
	alias      Alias
	updateOnly bool
}

func newStore() *store {
	s := &store{}
	s.resetLocked()
	return s
}

func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// resetLocked empties the store. Existing maps are cleared rather than replaced: they
// keep their capacity, so a benchmark that resets between runs does not pay for growing
// (rehashing) million-entry indexes again — ~10% of the emulator's CPU in a fresh run.
func (s *store) resetLocked() {
	s.seq, s.nextID = 0, 0
	if s.byExt == nil {
		s.byExt = map[string]*entry{}
		s.byBraze = map[string]*entry{}
		s.byAlias = map[Alias]*entry{}
		s.byEmail = map[string][]*entry{}
		s.byPhone = map[string][]*entry{}
		return
	}
	clear(s.byExt)
	clear(s.byBraze)
	clear(s.byAlias)
	clear(s.byEmail)
	clear(s.byPhone)
}

func (s *store) get(externalID string) (Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byExt[externalID]
	if !ok {
		return Profile{}, false
	}
	return e.p.clone(), true
}

func (s *store) getByAlias(a Alias) (Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byAlias[a]
	if !ok {
		return Profile{}, false
	}
	return e.p.clone(), true
}

func (s *store) getByEmail(email string) []Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Profile, 0, len(s.byEmail[strings.ToLower(email)]))
	for _, e := range s.byEmail[strings.ToLower(email)] {
		out = append(out, e.p.clone())
	}
	sortProfiles(out)
	return out
}

func (s *store) all() []Profile {
	s.mu.Lock()
	out := make([]Profile, 0, len(s.byBraze))
	for _, e := range s.byBraze {
		out = append(out, e.p.clone())
	}
	s.mu.Unlock()
	sortProfiles(out)
	return out
}

func sortProfiles(ps []Profile) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].ExternalID != ps[j].ExternalID {
			return ps[i].ExternalID < ps[j].ExternalID
		}
		return ps[i].BrazeID < ps[j].BrazeID
	})
}

// seed stores existing users, replacing any profile with the same external_id or
// braze_id.
func (s *store) seed(opts Options, ps []Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		p = p.clone()
		p.Custom = normaliseMap(p.Custom, true)
		p.Standard = normaliseMap(p.Standard, false)
		for i := range p.Events {
			p.Events[i].Properties = normaliseMap(p.Events[i].Properties, false)
		}
		if old, ok := s.byExt[p.ExternalID]; ok && p.ExternalID != "" {
			s.removeLocked(old)
		}
		if old, ok := s.byBraze[p.BrazeID]; ok && p.BrazeID != "" {
			s.removeLocked(old)
		}
		if p.BrazeID == "" {
			p.BrazeID = s.newBrazeIDLocked()
		}
		if p.CreatedAt.IsZero() {
			p.CreatedAt = opts.Now().UTC()
		}
		e := &entry{p: p}
		s.touchLocked(e)
		s.indexLocked(e)
	}
}

func (s *store) newBrazeIDLocked() string {
	s.nextID++
	// 24 hex digits, the shape of a real braze_id (a Mongo ObjectId): "e0" and the
	// counter in 22 zero-padded hex digits (what fmt's %022x gives, without its cost).
	const hex = "0123456789abcdef"
	b := [24]byte{'e', '0'}
	for i, n := len(b)-1, uint64(s.nextID); i >= 2; i, n = i-1, n>>4 {
		b[i] = hex[n&15]
	}
	return string(b[:])
}

func (s *store) touchLocked(e *entry) {
	s.seq++
	e.updated = s.seq
}

func (s *store) indexLocked(e *entry) {
	if e.p.ExternalID != "" {
		s.byExt[e.p.ExternalID] = e
	}
	s.byBraze[e.p.BrazeID] = e
	for _, a := range e.p.Aliases {
		s.byAlias[a] = e
	}
	if e.p.Email != "" {
		k := strings.ToLower(e.p.Email)
		s.byEmail[k] = append(s.byEmail[k], e)
	}
	if e.p.Phone != "" {
		s.byPhone[e.p.Phone] = append(s.byPhone[e.p.Phone], e)
	}
}

func (s *store) removeLocked(e *entry) {
	delete(s.byExt, e.p.ExternalID)
	delete(s.byBraze, e.p.BrazeID)
	for _, a := range e.p.Aliases {
		if s.byAlias[a] == e {
			delete(s.byAlias, a)
		}
	}
	s.setEmailLocked(e, "")
	s.setPhoneLocked(e, "")
}

// resolve finds the profile an object addresses, creating it when the identifier and
// _update_existing_only allow. It returns nil when the object is silently skipped
// (unknown user with update-only, or an unknown braze_id, which cannot create).
func (s *store) resolveLocked(id ident, now time.Time) (e *entry, created bool) {
	switch id.kind {
	case identExternalID:
		if e := s.byExt[id.value]; e != nil {
			return e, false
		}
	case identBrazeID:
		return s.byBraze[id.value], false
	case identAlias:
		if e := s.byAlias[id.alias]; e != nil {
			return e, false
		}
	case identEmail:
		if e := mostRecent(s.byEmail[strings.ToLower(id.value)]); e != nil {
			return e, false
		}
	case identPhone:
		if e := mostRecent(s.byPhone[id.value]); e != nil {
			return e, false
		}
	}
	if id.updateOnly {
		return nil, false
	}
	e = &entry{p: Profile{BrazeID: s.newBrazeIDLocked(), CreatedAt: now.UTC()}}
	switch id.kind {
	case identExternalID:
		e.p.ExternalID = id.value
	case identAlias:
		e.p.Aliases = []Alias{id.alias}
	case identEmail:
		e.p.Email = id.value
	case identPhone:
		e.p.Phone = id.value
	}
	s.indexLocked(e)
	return e, true
}

// mostRecent picks, among profiles sharing an email or phone, the most recently
// updated one that has an external_id, else the most recently updated (§1.3).
func mostRecent(es []*entry) *entry {
	var best, bestExt *entry
	for _, e := range es {
		if best == nil || e.updated > best.updated {
			best = e
		}
		if e.p.ExternalID != "" && (bestExt == nil || e.updated > bestExt.updated) {
			bestExt = e
		}
	}
	if bestExt != nil {
		return bestExt
	}
	return best
}

func (s *store) setEmailLocked(e *entry, email string) {
	if e.p.Email != "" {
		k := strings.ToLower(e.p.Email)
		s.byEmail[k] = removeEntry(s.byEmail[k], e)
		if len(s.byEmail[k]) == 0 {
			delete(s.byEmail, k)
		}
	}
	e.p.Email = email
	if email != "" {
		k := strings.ToLower(email)
		s.byEmail[k] = append(s.byEmail[k], e)
	}
}

func (s *store) setPhoneLocked(e *entry, phone string) {
	if e.p.Phone != "" {
		s.byPhone[e.p.Phone] = removeEntry(s.byPhone[e.p.Phone], e)
		if len(s.byPhone[e.p.Phone]) == 0 {
			delete(s.byPhone, e.p.Phone)
		}
	}
	e.p.Phone = phone
	if phone != "" {
		s.byPhone[phone] = append(s.byPhone[phone], e)
	}
}

func removeEntry(es []*entry, e *entry) []*entry {
	for i, x := range es {
		if x == e {
			return append(es[:i], es[i+1:]...)
		}
	}
	return es
}

func (s *store) getByBrazeID(id string) (Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byBraze[id]
	if !ok {
		return Profile{}, false
	}
	return e.p.clone(), true
}

func (s *store) getByPhone(phone string) []Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Profile, 0, len(s.byPhone[phone]))
	for _, e := range s.byPhone[phone] {
		out = append(out, e.p.clone())
	}
	sortProfiles(out)
	return out
}
