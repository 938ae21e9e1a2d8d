package brazeemu

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

type opKind uint8

const (
	opReject      opKind = iota // value not stored (counted in Stats.ValuesRejected)
	opSet                       // custom scalar, time or plain array (already deduped and capped)
	opUnset                     // "attr": null
	opInc                       // {"inc": n}
	opArrayModify               // {"add": [...], "remove": [...]}
	opNested                    // nested object or array of objects
	opObjArray                  // {"$add": [...], "$remove": [...], "$update": [...]}
	opStdSet                    // standard field
	opStdUnset                  // standard field null
	opEmail                     // email as a field ("" unsets)
	opPhone                     // phone as a field ("" unsets)
)

// fieldOp is one attribute write of an attributes object. It is kept small (the
// array operators sit behind a pointer) because every write of every object makes one.
type fieldOp struct {
	name   string
	kind   opKind
	val    any
	points int64 // data points the write costs (§7)
	*fieldOps
}

// fieldOps are the operands of opArrayModify and opObjArray writes.
type fieldOps struct {
	add    []any
	remove []any
	objOps objArrayOps
}

type objArrayOps struct {
	add    []any
	remove []map[string]any
	update []map[string]any
}

// attrOp is a validated attributes object.
type attrOp struct {
	id     ident
	merge  bool
	fields []fieldOp
}

// isControlKey reports attributes-object keys that are not profile writes. bio is listed
// because Braze no longer processes it and does not treat it as custom (§2.4). A switch,
// not a map: it runs for every key of every object.
func isControlKey(k string) bool {
	switch k {
	case "external_id", "braze_id", "user_alias", "_update_existing_only", "_merge_objects", "push_token_import", "bio":
		return true
	}
	return false
}

type keyValue struct {
	k string
	v any
}

// sortKeyValues sorts by key: an insertion sort, as slices.SortFunc does for a few
// elements, without its comparison-function calls.
func sortKeyValues(kvs []keyValue) {
	if len(kvs) > 32 {
		slices.SortFunc(kvs, func(a, b keyValue) int { return strings.Compare(a.k, b.k) })
		return
	}
	for i := 1; i < len(kvs); i++ {
		for j := i; j > 0 && kvs[j].k < kvs[j-1].k; j-- {
			kvs[j], kvs[j-1] = kvs[j-1], kvs[j]
		}
	}
}

// prepareAttributes validates one attributes object. nestedBad reports an invalid
// nested value, which drops every nested update of the request (§2.1).
func (e *Emulator) prepareAttributes(raw any, sc *decodeScratch) (op attrOp, nestedBad bool, errType string) {
	m, ok := raw.(map[string]any)
	if !ok {
		return attrOp{}, false, errNotAnObject
	}
	id, idKey, errType := e.identify(m)
	if errType != "" {
		return attrOp{}, false, errType
	}
	op.id = id
	if v, ok := m["_merge_objects"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return attrOp{}, false, invalidField("_merge_objects")
		}
		op.merge = b
	}
	// Keys and values together: looking each value up again was a map access per key.
	var buf [16]keyValue
	kvs := buf[:0]
	for k, v := range m {
		if !isControlKey(k) && k != idKey {
			kvs = append(kvs, keyValue{k, v})
		}
	}
	sortKeyValues(kvs) // deterministic: the first invalid field decides the error
	op.fields = sc.newFields(len(kvs))
	for _, kv := range kvs {
		if isStandardField(kv.k) {
			f, errType := prepareStandard(kv.k, kv.v)
			if errType != "" {
				return attrOp{}, false, errType
			}
			op.fields = append(op.fields, f)
			continue
		}
		f, bad := e.prepareCustom(kv.k, kv.v, sc)
		nestedBad = nestedBad || bad
		op.fields = append(op.fields, f)
	}
	return op, nestedBad, ""
}

// validName applies the custom attribute name rules: 1-255 characters, no leading $
// (§2.4; the $ rule is unconfirmed for REST and enforced here).
func validName(k string) bool {
	return k != "" && (len(k) <= maxStringLen || utf8.RuneCountInString(k) <= maxStringLen) && !strings.HasPrefix(k, "$")
}

func tooLong(s string) bool { return len(s) > maxStringLen && utf8.RuneCountInString(s) > maxStringLen }

// prepareCustom validates one custom attribute write. A bad value is rejected on its
// own (the object's other writes still apply): Braze's docs say an over-long value
// "didn't update" and still answer 201 (§2.1, §4), so strings over 255 characters are
// rejected, never truncated.
func (e *Emulator) prepareCustom(k string, v any, sc *decodeScratch) (f fieldOp, nestedBad bool) {
	f.name = k
	if !validName(k) {
		return f, false // opReject
	}
	switch t := v.(type) {
	case nil:
		f.kind, f.points = opUnset, 1
	case string:
		if tooLong(t) {
			return f, false
		}
		f.kind, f.val, f.points = opSet, normaliseValue(v, true), 1
	case json.Number, bool:
		f.kind, f.val, f.points = opSet, normaliseValue(v, false), 1
	case []any:
		return e.prepareArray(k, t)
	case map[string]any:
		return e.prepareObject(k, t, sc)
	}
	return f, false
}

func isScalar(v any) bool {
	switch t := v.(type) {
	case json.Number, bool:
		return true
	case string:
		return !tooLong(t)
	}
	return false
}

// prepareArray handles "attr": [...]: a set of scalars replaces the stored array
// (deduplicated, capped from the front, §2.2); an array of objects is a nested write.
func (e *Emulator) prepareArray(k string, arr []any) (fieldOp, bool) {
	f := fieldOp{name: k}
	allObjects := len(arr) > 0
	for _, x := range arr {
		if _, ok := x.(map[string]any); !ok {
			allObjects = false
		}
	}
	if allObjects {
		f.kind, f.val = opNested, normaliseValue(arr, false)
		bad := !validNested(arr)
		for _, x := range arr {
			f.points += countKeys(x)
		}
		return f, bad || jsonSize(arr) > maxNestedBytes
	}
	for _, x := range arr {
		if !isScalar(x) {
			return f, false // mixed or nested arrays are not stored
		}
	}
	f.kind, f.points = opSet, 1 // a whole-array set costs one data point (§7)
	f.val = capFront(dedupe(normaliseValue(arr, false).([]any)), e.opts.ArrayCap)
	return f, false
}

// prepareObject handles an object value: array add/remove, $add/$remove/$update on an
// array of objects, inc, or a nested custom attribute.
func (e *Emulator) prepareObject(k string, m map[string]any, sc *decodeScratch) (fieldOp, bool) {
	f := fieldOp{name: k}
	switch {
	case onlyKeys(m, "add", "remove"):
		f.fieldOps = sc.newFieldOps()
		for _, name := range []string{"add", "remove"} {
			raw, present := m[name]
			if !present {
				continue
			}
			arr, ok := raw.([]any)
			if !ok {
				return f, false
			}
			for _, x := range arr {
				if !isScalar(x) {
					return f, false
				}
			}
			// The decoded array itself when it holds nothing to normalise (no numbers):
			// it is recycled after the request, and these operands are only read while
			// the batch is applied (arrayModify copies them).
			vals := arr
			if hasNumber(arr) {
				vals = normaliseValue(arr, false).([]any)
			}
			if name == "add" {
				f.add = vals
			} else {
				f.remove = vals
			}
		}
		// Adding values one by one costs one data point each (§7); removals are
		// counted the same way (unconfirmed).
		f.kind, f.points = opArrayModify, int64(len(f.add)+len(f.remove))
		return f, false
	case onlyKeys(m, "$add", "$remove", "$update"):
		return prepareObjArray(f, m)
	case len(m) == 1 && m["inc"] != nil:
		n, ok := m["inc"].(json.Number)
		if !ok {
			return f, false
		}
		i, err := n.Int64()
		if err != nil {
			return f, false // inc takes integers only (§2.3)
		}
		f.kind, f.val, f.points = opInc, i, 1
		return f, false
	}
	if ts, ok := timeObject(m); ok {
		f.kind, f.val, f.points = opSet, ts, 1
		return f, false
	}
	f.kind, f.val, f.points = opNested, normaliseValue(m, false), countKeys(m)
	return f, !validNested(m) || jsonSize(m) > maxNestedBytes
}

func prepareObjArray(f fieldOp, m map[string]any) (fieldOp, bool) {
	f.fieldOps = &fieldOps{}
	bad := !validNested(m["$add"])
	if arr, ok := m["$add"].([]any); ok {
		f.objOps.add = normaliseValue(arr, false).([]any)
	}
	for _, name := range []string{"$remove", "$update"} {
		arr, _ := m[name].([]any)
		for _, x := range arr {
			o, ok := x.(map[string]any)
			if !ok {
				return f, false
			}
			o = normaliseValue(o, false).(map[string]any)
			if name == "$remove" {
				f.objOps.remove = append(f.objOps.remove, o)
			} else {
				f.objOps.update = append(f.objOps.update, o)
				bad = bad || !validNested(o["$new_object"])
			}
		}
	}
	f.kind = opObjArray
	f.points = int64(len(f.objOps.add) + len(f.objOps.remove) + len(f.objOps.update))
	return f, bad
}

func hasNumber(arr []any) bool {
	for _, x := range arr {
		if _, ok := x.(json.Number); ok {
			return true
		}
	}
	return false
}

func onlyKeys(m map[string]any, allowed ...string) bool {
	if len(m) == 0 {
		return false
	}
	for k := range m {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// validNested checks nested custom attribute rules (§2.1): keys 1-255 characters
// without spaces, '.' or '$'; string values at most 255 characters; no null values;
// dates written {"$time": ...} must parse.
func validNested(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case map[string]any:
		if raw, ok := t["$time"]; ok && len(t) == 1 {
			s, isStr := raw.(string)
			if !isStr {
				return false
			}
			_, ok := parseDate(s)
			return ok
		}
		for k, x := range t {
			if k == "" || utf8.RuneCountInString(k) > maxStringLen || strings.ContainsAny(k, " .$") {
				return false
			}
			if !validNested(x) {
				return false
			}
		}
	case []any:
		for _, x := range t {
			if !validNested(x) {
				return false
			}
		}
	case string:
		return !tooLong(t)
	}
	return true
}

// countKeys counts every key of a nested object, at every depth: each key is a data
// point (§7).
func countKeys(v any) int64 {
	switch t := v.(type) {
	case map[string]any:
		n := int64(len(t))
		for _, x := range t {
			n += countKeys(x)
		}
		return n
	case []any:
		var n int64
		for _, x := range t {
			n += countKeys(x)
		}
		return n
	}
	return 0
}

func jsonSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return maxNestedBytes + 1
	}
	return len(b)
}

// smallSet is the size up to which set operations scan linearly instead of building a
// map: the values are scalars, so == is the map's equality, and short arrays (the usual
// "add one value") then cost no map allocation.
const smallSet = 16

// dedupe keeps the first occurrence of each value (§2.1: arrays are sets).
func dedupe(arr []any) []any {
	if len(arr) <= smallSet {
		out := arr[:0:0]
		for i, x := range arr {
			if !slices.Contains(arr[:i], x) {
				out = append(out, x)
			}
		}
		return out
	}
	seen := make(map[any]struct{}, len(arr))
	out := arr[:0:0]
	for _, x := range arr {
		if _, dup := seen[x]; dup {
			continue
		}
		seen[x] = struct{}{}
		out = append(out, x)
	}
	return out
}

// capFront drops the oldest (first) elements beyond max (§2.2).
func capFront(arr []any, max int) []any {
	if len(arr) <= max {
		return arr
	}
	return append([]any(nil), arr[len(arr)-max:]...)
}

// applyAttributes writes one validated attributes object to profile i. Data points
// count every write, changed or not (§7).
func (e *Emulator) applyAttributes(s *store, i uint32, op *attrOp, dropNested bool, res *applyResult) {
	ent := s.at(i)
	for fi := range op.fields {
		f := &op.fields[fi]
		ok := true
		switch f.kind {
		case opReject:
			ok = false
		case opSet:
			s.setCustomLocked(ent, f.name, f.val, len(op.fields))
		case opUnset:
			s.delCustomLocked(ent, f.name)
		case opInc:
			ok = applyInc(s, ent, f)
		case opArrayModify:
			if s.arrayModifyLocked(ent, f.name, f.add, f.remove, e.opts.ArrayCap, len(op.fields)) {
				break
			}
			cur, _ := s.getCustomLocked(ent, f.name)
			s.setCustomLocked(ent, f.name, capFront(arrayModify(cur, f.add, f.remove), e.opts.ArrayCap), len(op.fields))
		case opNested:
			ok = !dropNested && applyNested(s, ent, f, op.merge)
		case opObjArray:
			ok = !dropNested && applyObjArray(s, ent, f, op.merge, e.opts.ArrayCap)
		case opStdSet:
			x := s.extraOf(i)
			if x.standard == nil {
				x.standard = map[string]any{}
			}
			x.standard[f.name] = f.val
		case opStdUnset:
			if x := s.extras[i]; x != nil {
				delete(x.standard, f.name)
			}
		case opEmail:
			s.setEmailLocked(i, f.val.(string))
		case opPhone:
			s.setPhoneLocked(i, f.val.(string))
		}
		if !ok {
			res.rejected++
			continue
		}
		res.dataPoints += f.points
	}
}

// applyInc increments an integer attribute; a missing attribute counts as 0. Any other
// stored type rejects the increment (§2.3: integer attributes only).
func applyInc(s *store, ent *entry, f *fieldOp) bool {
	by := f.val.(int64)
	cur, _ := s.getCustomLocked(ent, f.name)
	switch cur := cur.(type) {
	case nil:
		s.setCustomLocked(ent, f.name, by, 0)
	case int64:
		s.setCustomLocked(ent, f.name, cur+by, 0)
	default:
		return false
	}
	return true
}

// arrayModify applies remove, then add (the order is unconfirmed, §2.2). add moves an
// existing value to the end instead of duplicating it. A stored non-array value is
// replaced.
func arrayModify(cur any, add, remove []any) []any {
	old, _ := cur.([]any)
	if len(add)+len(remove) <= smallSet {
		out := make([]any, 0, len(old)+len(add))
		for _, x := range old {
			if !slices.Contains(remove, x) && !slices.Contains(add, x) {
				out = append(out, x)
			}
		}
		return append(out, dedupe(add)...)
	}
	drop := make(map[any]struct{}, len(add)+len(remove))
	for _, x := range remove {
		drop[x] = struct{}{}
	}
	for _, x := range add {
		drop[x] = struct{}{}
	}
	out := make([]any, 0, len(old)+len(add))
	for _, x := range old {
		if _, gone := drop[x]; !gone {
			out = append(out, x)
		}
	}
	return append(out, dedupe(add)...)
}

// applyNested overwrites a nested attribute, or deep-merges it into the stored object
// when _merge_objects is true (§2.3).
func applyNested(s *store, ent *entry, f *fieldOp, merge bool) bool {
	nv, isMap := f.val.(map[string]any)
	cur, _ := s.getCustomLocked(ent, f.name)
	old, oldIsMap := cur.(map[string]any)
	if merge && isMap && oldIsMap {
		deepMerge(old, nv) // old is the stored (boxed) map itself
		return true
	}
	s.setCustomLocked(ent, f.name, f.val, 0)
	return true
}

func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		sv, srcIsMap := v.(map[string]any)
		dv, dstIsMap := dst[k].(map[string]any)
		if srcIsMap && dstIsMap {
			deepMerge(dv, sv)
			continue
		}
		dst[k] = v
	}
}

// applyObjArray applies $remove, $update (only with _merge_objects) and $add to an
// array of objects (§2.1; the operators are unconfirmed).
func applyObjArray(s *store, ent *entry, f *fieldOp, merge bool, arrayCap int) bool {
	if len(f.objOps.update) > 0 && !merge {
		return false
	}
	stored, _ := s.getCustomLocked(ent, f.name)
	cur, _ := stored.([]any)
	out := make([]any, 0, len(cur)+len(f.objOps.add))
	for _, x := range cur {
		o, _ := x.(map[string]any)
		if o != nil && matchesAny(o, f.objOps.remove) {
			continue
		}
		for _, u := range f.objOps.update {
			if nv, ok := u["$new_object"].(map[string]any); ok && o != nil && matches(o, u) {
				deepMerge(o, nv)
			}
		}
		out = append(out, x)
	}
	out = append(out, f.objOps.add...)
	s.setCustomLocked(ent, f.name, capFront(out, arrayCap), 0)
	return true
}

func matches(o, sel map[string]any) bool {
	k, _ := sel["$identifier_key"].(string)
	return k != "" && scalarEqual(o[k], sel["$identifier_value"])
}

// scalarEqual compares two stored values without panicking on maps or slices, which
// never match.
func scalarEqual(a, b any) bool {
	switch a.(type) {
	case string, int64, float64, bool:
		return a == b
	}
	return false
}

func matchesAny(o map[string]any, sels []map[string]any) bool {
	for _, s := range sels {
		if matches(o, s) {
			return true
		}
	}
	return false
}
