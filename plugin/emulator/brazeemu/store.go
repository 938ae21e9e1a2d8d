package brazeemu

import (
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// store holds profiles and the indexes used to resolve identifiers (docs/braze-api.md §1.3).
// One mutex guards it; callers decode and validate requests before taking it, so it is
// held only while writes are applied.
//
// Profiles are held compactly (compact.go): an entry per profile in chunks of entries,
// its strings in a byte arena, its custom attributes in a slab, and the rarely used
// fields (aliases, email, phone, standard fields, events, purchases) in an extra record.
// Reads build the public Profile from these, so callers never share memory with the
// store.
type store struct {
	mu       sync.Mutex
	seq      int64 // bumps on every write; orders "most recently updated"
	nextID   int64 // braze_id counter
	hashSeed maphash.Seed
	entries  [][]entry // entryChunk entries each
	n        uint32    // entries in use (removed ones included)
	strs     byteArena
	cells    slab
	times    []time.Time       // created_at values, shared by the profiles created together
	extras   map[uint32]*extra // by entry number
	names    map[string]uint32 // custom attribute name → id (an index of nameStr)
	nameStr  []string
	interns  map[uint64]strRef // short string values, by hash
	boxes    []any             // values without a compact form (vBoxed)
	freeBox  []uint32

	byExt   strIndex
	byBraze brazeIndex
	byAlias map[Alias]uint32
	byEmail map[string][]uint32 // key: lower-cased email
	byPhone map[string][]uint32
}

// entry is one profile. It holds no pointers (see compact.go).
type entry struct {
	ext, braze strRef
	updated    int64
	attrs      uint64 // slab address of the custom attributes
	nAttrs     uint32
	capAttrs   uint32 // size class of the region at attrs
	created    uint32 // index in store.times
	flags      uint8
}

const (
	fRemoved uint8 = 1 << iota // replaced by Seed
	fCustom                    // has a Custom map (possibly empty): nil and empty differ
)

const (
	entryShift = 12
	entryChunk = 1 << entryShift
	noEntry    = ^uint32(0)
	// internMax is the longest string value interned (stored once however many
	// profiles hold it); longer values are copied per write.
	internMax = 32
)

// extra holds the fields most profiles written by brazesync do not have.
type extra struct {
	aliases   []Alias
	email     string
	phone     string
	standard  map[string]any
	events    []Event
	purchases []Purchase
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
	s := &store{hashSeed: maphash.MakeSeed()}
	s.byExt = newStrIndex(s.hashSeed)
	s.byBraze = brazeIndex{hash: newStrIndex(s.hashSeed)}
	s.byAlias = map[Alias]uint32{}
	s.byEmail = map[string][]uint32{}
	s.byPhone = map[string][]uint32{}
	s.extras = map[uint32]*extra{}
	s.names = map[string]uint32{}
	s.interns = map[uint64]strRef{}
	return s
}

func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// resetLocked empties the store. Index maps are cleared rather than replaced and the
// entry chunks and slab are kept: a benchmark that resets between runs does not pay for
// growing million-entry structures again. The string arena is dropped, not reused:
// strings handed out by reads point into it.
func (s *store) resetLocked() {
	s.seq, s.nextID, s.n = 0, 0, 0
	s.strs = byteArena{}
	s.cells.reset()
	s.times = s.times[:0]
	clear(s.extras)
	clear(s.names)
	s.nameStr = s.nameStr[:0]
	clear(s.interns)
	clear(s.boxes)
	s.boxes, s.freeBox = s.boxes[:0], s.freeBox[:0]
	s.byExt.clear()
	s.byBraze.clear()
	clear(s.byAlias)
	clear(s.byEmail)
	clear(s.byPhone)
}

func (s *store) at(i uint32) *entry { return &s.entries[i>>entryShift][i&(entryChunk-1)] }

func (s *store) extOf(i uint32) string   { return s.strs.str(s.at(i).ext) }
func (s *store) brazeOf(i uint32) string { return s.strs.str(s.at(i).braze) }

// newEntryLocked adds an empty entry created at t.
func (s *store) newEntryLocked(t time.Time) (uint32, *entry) {
	i := s.n
	s.n++
	if int(i>>entryShift) == len(s.entries) {
		s.entries = append(s.entries, make([]entry, entryChunk))
	}
	e := s.at(i)
	*e = entry{created: s.timeIndexLocked(t)}
	return i, e
}

// timeIndexLocked stores t in times, sharing the last one when it is the same.
func (s *store) timeIndexLocked(t time.Time) uint32 {
	if n := len(s.times); n > 0 && s.times[n-1] == t {
		return uint32(n - 1)
	}
	s.times = append(s.times, t)
	return uint32(len(s.times) - 1)
}

func (s *store) extraOf(i uint32) *extra {
	x := s.extras[i]
	if x == nil {
		x = &extra{}
		s.extras[i] = x
	}
	return x
}

func (s *store) emailOf(i uint32) string {
	if x := s.extras[i]; x != nil {
		return x.email
	}
	return ""
}

func (s *store) phoneOf(i uint32) string {
	if x := s.extras[i]; x != nil {
		return x.phone
	}
	return ""
}

// profileLocked builds the public form of entry i: a deep copy.
func (s *store) profileLocked(i uint32) Profile {
	e := s.at(i)
	p := Profile{ExternalID: s.strs.str(e.ext), BrazeID: s.strs.str(e.braze), CreatedAt: s.times[e.created]}
	if e.flags&fCustom != 0 {
		p.Custom = s.customMapLocked(e)
	}
	x := s.extras[i]
	if x == nil {
		return p
	}
	p.Aliases = append([]Alias(nil), x.aliases...)
	p.Email, p.Phone = x.email, x.phone
	p.Standard = cloneMap(x.standard)
	if x.events != nil {
		p.Events = make([]Event, len(x.events))
		for j, ev := range x.events {
			ev.Properties = cloneMap(ev.Properties)
			p.Events[j] = ev
		}
	}
	if x.purchases != nil {
		p.Purchases = make([]Purchase, len(x.purchases))
		for j, pu := range x.purchases {
			pu.Properties = cloneMap(pu.Properties)
			p.Purchases[j] = pu
		}
	}
	return p
}

func (s *store) get(externalID string) (Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byExt.get(externalID, s.extOf)
	if !ok {
		return Profile{}, false
	}
	return s.profileLocked(i), true
}

func (s *store) getByAlias(a Alias) (Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byAlias[a]
	if !ok {
		return Profile{}, false
	}
	return s.profileLocked(i), true
}

func (s *store) getByEmail(email string) []Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profilesLocked(s.byEmail[strings.ToLower(email)])
}

func (s *store) getByPhone(phone string) []Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profilesLocked(s.byPhone[phone])
}

func (s *store) profilesLocked(is []uint32) []Profile {
	out := make([]Profile, 0, len(is))
	for _, i := range is {
		out = append(out, s.profileLocked(i))
	}
	sortProfiles(out)
	return out
}

func (s *store) getByBrazeID(id string) (Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byBraze.get(id, s.brazeOf)
	if !ok {
		return Profile{}, false
	}
	return s.profileLocked(i), true
}

func (s *store) all() []Profile {
	s.mu.Lock()
	out := make([]Profile, 0, s.byBraze.len())
	s.byBraze.each(func(i uint32) { out = append(out, s.profileLocked(i)) })
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
		if old, ok := s.byExt.get(p.ExternalID, s.extOf); ok && p.ExternalID != "" {
			s.removeLocked(old)
		}
		if old, ok := s.byBraze.get(p.BrazeID, s.brazeOf); ok && p.BrazeID != "" {
			s.removeLocked(old)
		}
		if p.BrazeID == "" {
			p.BrazeID = s.newBrazeIDLocked()
		}
		if p.CreatedAt.IsZero() {
			p.CreatedAt = opts.Now().UTC()
		}
		i, e := s.newEntryLocked(p.CreatedAt)
		e.ext, e.braze = s.strs.add(p.ExternalID), s.strs.add(p.BrazeID)
		if p.Custom != nil {
			e.flags |= fCustom
			for k, v := range p.Custom {
				s.setCustomLocked(e, k, v, len(p.Custom))
			}
		}
		if len(p.Aliases) > 0 || p.Email != "" || p.Phone != "" || p.Standard != nil || p.Events != nil || p.Purchases != nil {
			*s.extraOf(i) = extra{aliases: p.Aliases, email: p.Email, phone: p.Phone, standard: p.Standard,
				events: p.Events, purchases: p.Purchases}
		}
		s.touchLocked(e)
		s.indexLocked(i)
	}
}

func (s *store) newBrazeIDLocked() string {
	var b [24]byte
	return string(s.nextBrazeIDLocked(&b))
}

// nextBrazeIDLocked formats the next braze_id into b: 24 hex digits, the shape of a
// real braze_id (a Mongo ObjectId), "e0" and the counter in 22 zero-padded hex digits
// (what fmt's %022x gives, without its cost).
func (s *store) nextBrazeIDLocked(b *[24]byte) []byte {
	s.nextID++
	const hex = "0123456789abcdef"
	b[0], b[1] = 'e', '0'
	for i, n := len(b)-1, uint64(s.nextID); i >= 2; i, n = i-1, n>>4 {
		b[i] = hex[n&15]
	}
	return b[:]
}

func (s *store) touchLocked(e *entry) {
	s.seq++
	e.updated = s.seq
}

func (s *store) indexLocked(i uint32) {
	e := s.at(i)
	if e.ext.n > 0 {
		s.byExt.put(s.strs.str(e.ext), i, s.extOf)
	}
	s.byBraze.put(s.strs.str(e.braze), i, s.brazeOf)
	x := s.extras[i]
	if x == nil {
		return
	}
	for _, a := range x.aliases {
		s.byAlias[a] = i
	}
	if x.email != "" {
		k := strings.ToLower(x.email)
		s.byEmail[k] = append(s.byEmail[k], i)
	}
	if x.phone != "" {
		s.byPhone[x.phone] = append(s.byPhone[x.phone], i)
	}
}

func (s *store) removeLocked(i uint32) {
	e := s.at(i)
	s.byExt.delete(s.strs.str(e.ext), s.extOf)
	s.byBraze.delete(s.strs.str(e.braze), s.brazeOf)
	if x := s.extras[i]; x != nil {
		for _, a := range x.aliases {
			if cur, ok := s.byAlias[a]; ok && cur == i {
				delete(s.byAlias, a)
			}
		}
	}
	s.setEmailLocked(i, "")
	s.setPhoneLocked(i, "")
	s.clearCustomLocked(e)
	delete(s.extras, i)
	e.flags |= fRemoved
}

// resolveLocked finds the profile an object addresses, creating it when the identifier
// and _update_existing_only allow. It returns noEntry when the object is silently
// skipped (unknown user with update-only, or an unknown braze_id, which cannot create).
func (s *store) resolveLocked(id ident, now time.Time) (i uint32, created bool) {
	switch id.kind {
	case identExternalID:
		if i, ok := s.byExt.get(id.value, s.extOf); ok {
			return i, false
		}
	case identBrazeID:
		if i, ok := s.byBraze.get(id.value, s.brazeOf); ok {
			return i, false
		}
		return noEntry, false
	case identAlias:
		if i, ok := s.byAlias[id.alias]; ok {
			return i, false
		}
	case identEmail:
		if i := s.mostRecent(s.byEmail[strings.ToLower(id.value)]); i != noEntry {
			return i, false
		}
	case identPhone:
		if i := s.mostRecent(s.byPhone[id.value]); i != noEntry {
			return i, false
		}
	}
	if id.updateOnly {
		return noEntry, false
	}
	i, e := s.newEntryLocked(now.UTC())
	var idBuf [24]byte
	bid := s.nextBrazeIDLocked(&idBuf)
	e.braze = s.strs.add(unsafe.String(&bid[0], len(bid))) // copied: no string made for it
	switch id.kind {
	case identExternalID:
		e.ext = s.strs.add(id.value)
	case identAlias:
		s.extraOf(i).aliases = []Alias{{Name: strings.Clone(id.alias.Name), Label: strings.Clone(id.alias.Label)}}
	case identEmail:
		s.extraOf(i).email = strings.Clone(id.value)
	case identPhone:
		s.extraOf(i).phone = strings.Clone(id.value)
	}
	s.indexLocked(i)
	return i, true
}

// mostRecent picks, among profiles sharing an email or phone, the most recently
// updated one that has an external_id, else the most recently updated (§1.3).
func (s *store) mostRecent(is []uint32) uint32 {
	best, bestExt := noEntry, noEntry
	var bestAt, bestExtAt int64
	for _, i := range is {
		e := s.at(i)
		if best == noEntry || e.updated > bestAt {
			best, bestAt = i, e.updated
		}
		if e.ext.n > 0 && (bestExt == noEntry || e.updated > bestExtAt) {
			bestExt, bestExtAt = i, e.updated
		}
	}
	if bestExt != noEntry {
		return bestExt
	}
	return best
}

func (s *store) setEmailLocked(i uint32, email string) {
	if old := s.emailOf(i); old != "" {
		k := strings.ToLower(old)
		s.byEmail[k] = removeIndex(s.byEmail[k], i)
		if len(s.byEmail[k]) == 0 {
			delete(s.byEmail, k)
		}
	}
	if email == "" && s.extras[i] == nil {
		return
	}
	email = strings.Clone(email) // not a view of the request body
	s.extraOf(i).email = email
	if email != "" {
		k := strings.ToLower(email)
		s.byEmail[k] = append(s.byEmail[k], i)
	}
}

func (s *store) setPhoneLocked(i uint32, phone string) {
	if old := s.phoneOf(i); old != "" {
		s.byPhone[old] = removeIndex(s.byPhone[old], i)
		if len(s.byPhone[old]) == 0 {
			delete(s.byPhone, old)
		}
	}
	if phone == "" && s.extras[i] == nil {
		return
	}
	phone = strings.Clone(phone)
	s.extraOf(i).phone = phone
	if phone != "" {
		s.byPhone[phone] = append(s.byPhone[phone], i)
	}
}

func removeIndex(is []uint32, i uint32) []uint32 {
	for j, x := range is {
		if x == i {
			return append(is[:j], is[j+1:]...)
		}
	}
	return is
}
