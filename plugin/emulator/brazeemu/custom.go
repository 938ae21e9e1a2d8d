package brazeemu

import (
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"time"
)

// Custom attributes of an entry: a region of cells in store.cells, one per attribute,
// found by a linear scan of attribute-name ids (profiles have few attributes, and a
// scan of a few cells is cheaper than a map).

// nameIDLocked returns the id of a custom attribute name, adding it if add is set.
func (s *store) nameIDLocked(name string, add bool) (uint32, bool) {
	if id, ok := s.names[name]; ok {
		return id, true
	}
	if !add {
		return 0, false
	}
	if len(s.nameStr) == maxNames {
		panic("brazeemu: more than 16,777,216 distinct custom attribute names")
	}
	name = strings.Clone(name) // names arrive as views of the request body
	id := uint32(len(s.nameStr))
	s.nameStr = append(s.nameStr, name)
	s.names[name] = id
	return id, true
}

func (s *store) attrCells(e *entry) []cval { return s.cells.cells(e.attrs, e.nAttrs) }

func findCell(cs []cval, id uint32) int {
	for j := range cs {
		if cs[j].name() == id {
			return j
		}
	}
	return -1
}

// getCustomLocked returns the stored value of an attribute, as the store's internal
// code uses it: compact values are rebuilt, boxed values are the stored ones (so
// deepMerge can change a stored nested object in place, as before).
func (s *store) getCustomLocked(e *entry, name string) (any, bool) {
	id, ok := s.nameIDLocked(name, false)
	if !ok {
		return nil, false
	}
	cs := s.attrCells(e)
	j := findCell(cs, id)
	if j < 0 {
		return nil, false
	}
	return s.valueLocked(cs[j], false), true
}

// setCustomLocked stores v (a normalised value) as attribute name. hint is the number
// of attributes to make room for when the profile has none yet.
func (s *store) setCustomLocked(e *entry, name string, v any, hint int) {
	e.flags |= fCustom
	id, _ := s.nameIDLocked(name, true)
	cs := s.attrCells(e)
	if j := findCell(cs, id); j >= 0 {
		cs[j] = s.replaceLocked(cs[j], v).named(id)
		return
	}
	if e.nAttrs == e.capAttrs {
		s.growAttrsLocked(e, hint)
	}
	e.nAttrs++
	s.attrCells(e)[e.nAttrs-1] = s.encodeLocked(v).named(id)
}

func (s *store) growAttrsLocked(e *entry, hint int) {
	n := sizeClass(max(e.nAttrs+1+e.nAttrs/2, uint32(min(hint, 1<<16))))
	addr := s.cells.alloc(n)
	copy(s.cells.cells(addr, n), s.attrCells(e))
	s.cells.release(e.attrs, e.capAttrs)
	e.attrs, e.capAttrs = addr, n
}

func (s *store) delCustomLocked(e *entry, name string) {
	id, ok := s.nameIDLocked(name, false)
	if !ok {
		return
	}
	cs := s.attrCells(e)
	j := findCell(cs, id)
	if j < 0 {
		return
	}
	s.releaseLocked(cs[j])
	cs[j] = cs[len(cs)-1]
	e.nAttrs--
}

// clearCustomLocked frees every attribute of e.
func (s *store) clearCustomLocked(e *entry) {
	for _, c := range s.attrCells(e) {
		s.releaseLocked(c)
	}
	s.cells.release(e.attrs, e.capAttrs)
	e.attrs, e.nAttrs, e.capAttrs = 0, 0, 0
	e.flags &^= fCustom
}

// customMapLocked builds the public Custom map of e: a deep copy.
func (s *store) customMapLocked(e *entry) map[string]any {
	cs := s.attrCells(e)
	m := make(map[string]any, len(cs))
	for _, c := range cs {
		m[s.nameStr[c.name()]] = s.valueLocked(c, true)
	}
	return m
}

// encodeLocked gives v its stored form: compact when it is a string, int64, float64,
// bool, UTC time, nil or an array of those; boxed (kept as the value itself) otherwise.
func (s *store) encodeLocked(v any) cval {
	if c, ok := s.scalarLocked(v); ok {
		return c
	}
	if arr, ok := v.([]any); ok && arr != nil && scalarArray(arr) {
		n := uint32(len(arr))
		c := mkval(vArray, 0, n)
		if n > 0 {
			c.bits = s.cells.alloc(sizeClass(n))
			s.fillArrayLocked(c, arr)
		}
		return c
	}
	c := mkval(vBoxed, 0, 0)
	if k := len(s.freeBox); k > 0 {
		c.bits = uint64(s.freeBox[k-1])
		s.freeBox = s.freeBox[:k-1]
		s.boxes[c.bits] = v
		return c
	}
	c.bits = uint64(len(s.boxes))
	s.boxes = append(s.boxes, v)
	return c
}

func (s *store) fillArrayLocked(c cval, arr []any) {
	cs := s.cells.cells(c.bits, c.aux)
	for j, x := range arr {
		cs[j], _ = s.scalarLocked(x)
	}
}

// replaceLocked stores v in place of old, writing an array over the old array's cells
// when it fits the same region.
func (s *store) replaceLocked(old cval, v any) cval {
	if arr, ok := v.([]any); ok && old.kind() == vArray && arr != nil && len(arr) > 0 &&
		sizeClass(uint32(len(arr))) == sizeClass(old.aux) && scalarArray(arr) {
		c := mkval(vArray, old.bits, uint32(len(arr)))
		s.fillArrayLocked(c, arr)
		return c
	}
	s.releaseLocked(old)
	return s.encodeLocked(v)
}

// releaseLocked frees what a value holds in the slab or the boxes. Strings stay in the
// arena (interned ones are shared; long ones are reclaimed only by Reset).
func (s *store) releaseLocked(c cval) {
	switch c.kind() {
	case vArray:
		s.cells.release(c.bits, sizeClass(c.aux))
	case vBoxed:
		s.boxes[c.bits] = nil
		s.freeBox = append(s.freeBox, uint32(c.bits))
	}
}

func scalarArray(arr []any) bool {
	for _, x := range arr {
		switch t := x.(type) {
		case nil, string, int64, float64, bool:
		case time.Time:
			if !compactTime(t) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// compactTime reports whether t is rebuilt exactly (==) from its Unix seconds and
// nanoseconds: a UTC time without a monotonic reading, as parseDate makes.
func compactTime(t time.Time) bool {
	return t == time.Unix(t.Unix(), int64(t.Nanosecond())).UTC()
}

func (s *store) scalarLocked(v any) (cval, bool) {
	switch t := v.(type) {
	case nil:
		return mkval(vNil, 0, 0), true
	case string:
		r := s.internLocked(t)
		return mkval(vString, uint64(r.chunk)<<32|uint64(r.off), r.n), true
	case int64:
		return mkval(vInt, uint64(t), 0), true
	case float64:
		return mkval(vFloat, math.Float64bits(t), 0), true
	case bool:
		c := mkval(vBool, 0, 0)
		if t {
			c.bits = 1
		}
		return c, true
	case time.Time:
		if compactTime(t) {
			return mkval(vTime, uint64(t.Unix()), uint32(t.Nanosecond())), true
		}
	}
	return cval{}, false
}

// internLocked copies str into the arena, once for all profiles when it is short.
func (s *store) internLocked(str string) strRef {
	if len(str) > internMax || len(str) == 0 {
		return s.strs.add(str)
	}
	h := maphash.String(s.hashSeed, str)
	if r, ok := s.interns[h]; ok {
		if s.strs.str(r) == str {
			return r
		}
		return s.strs.add(str) // another string has this hash: store this one apart
	}
	r := s.strs.add(str)
	s.interns[h] = r
	return r
}

// valueLocked rebuilds a stored value. Boxed values are deep-copied when public is set.
func (s *store) valueLocked(c cval, public bool) any {
	switch c.kind() {
	case vString:
		return s.strs.str(strRef{chunk: uint32(c.bits >> 32), off: uint32(c.bits), n: c.aux})
	case vInt:
		return int64(c.bits)
	case vFloat:
		return math.Float64frombits(c.bits)
	case vBool:
		return c.bits == 1
	case vTime:
		return time.Unix(int64(c.bits), int64(c.aux)).UTC()
	case vArray:
		out := make([]any, c.aux)
		for j, x := range s.cells.cells(c.bits, c.aux) {
			out[j] = s.valueLocked(x, public)
		}
		return out
	case vBoxed:
		if public {
			return cloneValue(s.boxes[c.bits])
		}
		return s.boxes[c.bits]
	}
	return nil
}

// arrayModifyLocked applies an add/remove write (arrayModify, then capFront) to a
// compact array without building []any values: the usual "add one value" write of
// every object brazesync sends. It reports false, having changed nothing, when the
// stored value or the operands need the general path.
func (s *store) arrayModifyLocked(e *entry, name string, add, remove []any, arrayCap, hint int) bool {
	if len(add)+len(remove) > smallSet {
		return false
	}
	var old []cval
	at := -1
	if id, ok := s.nameIDLocked(name, false); ok {
		cs := s.attrCells(e)
		if at = findCell(cs, id); at >= 0 {
			switch cs[at].kind() {
			case vArray:
				old = s.cells.cells(cs[at].bits, cs[at].aux)
			case vBoxed:
				if _, isArr := s.boxes[cs[at].bits].([]any); isArr {
					return false
				}
			}
		}
	}
	var buf [32]cval
	if len(old)+len(add) > len(buf) || !scalarArray(add) || !scalarArray(remove) {
		return false
	}
	out := buf[:0]
	for _, c := range old {
		if !s.containsLocked(remove, c) && !s.containsLocked(add, c) {
			out = append(out, c)
		}
	}
	for j, x := range add {
		if !slices.Contains(add[:j], x) { // dedupe: the first of equal values
			c, _ := s.scalarLocked(x)
			out = append(out, c)
		}
	}
	if len(out) > arrayCap {
		out = out[len(out)-arrayCap:]
	}
	s.storeArrayLocked(e, name, at, out, hint)
	return true
}

// containsLocked reports whether vals holds a value equal (as interface values
// compare) to the stored scalar c.
func (s *store) containsLocked(vals []any, c cval) bool {
	for _, x := range vals {
		if s.equalLocked(c, x) {
			return true
		}
	}
	return false
}

func (s *store) equalLocked(c cval, x any) bool {
	switch t := x.(type) {
	case nil:
		return c.kind() == vNil
	case string:
		return c.kind() == vString && s.valueLocked(c, false).(string) == t
	case int64:
		return c.kind() == vInt && int64(c.bits) == t
	case float64:
		return c.kind() == vFloat && math.Float64frombits(c.bits) == t
	case bool:
		return c.kind() == vBool && (c.bits == 1) == t
	case time.Time:
		return c.kind() == vTime && time.Unix(int64(c.bits), int64(c.aux)).UTC() == t
	}
	return false
}

// storeArrayLocked sets attribute name (found at cell at, or -1) to the array vals,
// over the old array's region when the size class is the same.
func (s *store) storeArrayLocked(e *entry, name string, at int, vals []cval, hint int) {
	n := uint32(len(vals))
	if at >= 0 {
		cs := s.attrCells(e)
		old := cs[at]
		if old.kind() == vArray && sizeClass(old.aux) == sizeClass(n) {
			copy(s.cells.cells(old.bits, n), vals) // vals may be the old cells, shifted: copy handles overlap
			cs[at] = mkval(vArray, old.bits, n).named(old.name())
			e.flags |= fCustom
			return
		}
	}
	c := mkval(vArray, 0, n)
	if n > 0 {
		c.bits = s.cells.alloc(sizeClass(n))
		copy(s.cells.cells(c.bits, n), vals)
	}
	id, _ := s.nameIDLocked(name, true)
	if at >= 0 {
		cs := s.attrCells(e)
		s.releaseLocked(cs[at])
		cs[at] = c.named(id)
		e.flags |= fCustom
		return
	}
	e.flags |= fCustom
	if e.nAttrs == e.capAttrs {
		s.growAttrsLocked(e, hint)
	}
	e.nAttrs++
	s.attrCells(e)[e.nAttrs-1] = c.named(id)
}
