package schema

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// Braze's limits on purchases and properties (docs/braze-api.md §1.2).
const (
	minQuantity = 1
	// maxQuantity: Braze's range for quantity is unconfirmed; 1-100 is the commonly cited one.
	maxQuantity = 100
	// maxPropertiesBytes: properties holding arrays or objects are limited to 100 KB in all.
	maxPropertiesBytes = 100 * 1024
)

// Reasons an event or purchase row is rejected. Like every reason they never hold a value (a
// property name read from a JSON cell is a value too).
const (
	reasonNameMissing      = "event name is null or empty"
	reasonProductMissing   = "product_id is null or empty"
	reasonCurrencyMissing  = "currency is null"
	reasonCurrency         = "currency is not an ISO 4217 code"
	reasonPriceMissing     = "price is null"
	reasonQuantity         = "quantity must be an integer from 1 to 100"
	reasonIDMissing        = "event identity is null or empty"
	reasonAppIDMissing     = "app_id is empty"
	reasonPropsNotObject   = "properties column does not hold a JSON object"
	reasonPropertyName     = "property name is empty, starts with '$', or is reserved (time, event_name)"
	reasonPropertyTwice    = "property given twice"
	reasonPropertiesTooBig = "properties larger than 100 KB"
)

// EventResult reports the outcome of EventEncoder.AppendRow.
type EventResult struct {
	// RowResult carries Key, Skip and Reject exactly as for attribute rows (Attributes stays 0).
	RowResult
	// ID is the row's identity (see EventID).
	ID EventID
	// Time is the event's time as sent, in milliseconds since 1970; TimeFromRow is false when the
	// row had none and took the sync's start.
	Time        int64
	TimeFromRow bool
	// Properties counts the properties written (each is a Braze data point, as is the object).
	Properties int
}

// EventEncoder turns rows into the members of event or purchase objects (without braces), reusing
// the attribute encoder for the key and the value writers for every member. Like Encoder it is
// reusable across records, not safe for concurrent use, and allocates nothing per row in steady
// state.
type EventEncoder struct {
	m    *EventMapping
	base *Encoder // the identifier member, the key checks, the source's rejected rows

	syncMember []byte // ,"time":"<sync start>"
	syncMillis int64
	consts     [nRoles][]byte // constant members (name, app_id, currency), comma included

	name, app, currency stringSource
	id, product         keyReader
	time                timeReader
	price               valueWriter
	quantity            intReader
	props               []propWriter
	propsJSON           jsonWriter

	nulls  int
	digest hash.Hash
	sumBuf []byte   // scratch: the digest
	text   []byte   // scratch: a key-like value as text
	names  []string // property names written in the row being encoded
	keyBuf []byte   // scratch: a JSON member name, decoded
}

type propWriter struct {
	column string
	member []byte // "name":
	name   string
	w      valueWriter
	object bool // arrays and objects count towards the 100 KB limit
}

// NewEncoder returns an encoder for the mapping; syncStart is the time of rows that have none.
func (m *EventMapping) NewEncoder(syncStart time.Time) *EventEncoder {
	e := &EventEncoder{m: m, base: m.base.NewEncoder(), digest: sha256.New()}
	e.syncMillis = syncStart.UnixMilli()
	e.syncMember = append(appendKey([]byte{','}, "time"), '"')
	days := floorDiv(e.syncMillis, msPerDay)
	ms := e.syncMillis - days*msPerDay
	e.syncMember = append(appendDateTime(e.syncMember, days, ms/1000, ms%1000, 3), '"')
	e.consts[roleName] = constMember("name", m.nameConst)
	e.consts[roleAppID] = constMember("app_id", m.appConst)
	e.consts[roleCurrency] = constMember("currency", m.curConst)
	sc := m.base.schema
	col := func(role eventRole) arrow.DataType { return sc.Field(m.cols[role]).Type }
	var err error
	if m.cols[roleName] >= 0 {
		e.name, err = newStringSource(col(roleName))
	}
	if err == nil && m.cols[roleAppID] >= 0 {
		e.app, err = newStringSource(col(roleAppID))
	}
	if err == nil && m.cols[roleCurrency] >= 0 {
		e.currency, err = newStringSource(col(roleCurrency))
	}
	if err == nil && m.cols[roleID] >= 0 {
		e.id, err = newKeyReader(col(roleID))
	}
	if err == nil && m.cols[roleProductID] >= 0 {
		e.product, err = newKeyReader(col(roleProductID))
	}
	if err == nil && m.cols[roleTime] >= 0 {
		e.time, err = newTimeReader(col(roleTime))
	}
	if err == nil && m.cols[rolePrice] >= 0 {
		e.price, err = newWriter(col(rolePrice), writerOpts{place: placeTop, nulls: &e.nulls})
	}
	if err == nil && m.cols[roleQuantity] >= 0 {
		e.quantity, err = newIntReader(col(roleQuantity))
	}
	for _, p := range m.props {
		if err != nil {
			break
		}
		dt := sc.Field(p.col).Type
		var w valueWriter
		// placeArray, not placeTop: the two write every value alike, except that top-level lists are
		// de-duplicated as Braze attribute arrays are sets; a property's list is not a set.
		w, err = newWriter(dt, writerOpts{place: placeArray, truncate: m.base.cfg.LongStrings == LongStringsTruncate, nulls: &e.nulls})
		e.props = append(e.props, propWriter{column: sc.Field(p.col).Name, member: appendKey(nil, p.name), name: p.name,
			w: w, object: isObjectType(dt) || isListType(dt)})
	}
	if err != nil {
		panic(err) // checked by NewEventMapping
	}
	return e
}

// constMember renders `,"member":"value"`, or nil for no value.
func constMember(member, value string) []byte {
	if value == "" {
		return nil
	}
	b, _ := appendString(appendKey([]byte{','}, member), value, 0, false) // checked by Validate
	return b
}

// Reset binds the encoder to rec, which must have the mapping's schema.
func (e *EventEncoder) Reset(rec arrow.Record) error {
	if err := e.base.Reset(rec); err != nil {
		return err
	}
	bind := func(role eventRole, w interface{ bind(arrow.Array) error }) error {
		if e.m.cols[role] < 0 || w == nil {
			return nil
		}
		if err := w.bind(rec.Column(e.m.cols[role])); err != nil {
			return fmt.Errorf("binding column %q: %w", rec.Schema().Field(e.m.cols[role]).Name, err)
		}
		return nil
	}
	for _, b := range []struct {
		role eventRole
		w    interface{ bind(arrow.Array) error }
	}{{roleName, e.name}, {roleAppID, e.app}, {roleCurrency, e.currency}, {roleID, e.id}, {roleProductID, e.product},
		{roleTime, e.time}, {rolePrice, e.price}, {roleQuantity, e.quantity}} {
		if err := bind(b.role, b.w); err != nil {
			return err
		}
	}
	if err := bind(roleProperties, &e.propsJSON); err != nil {
		return err
	}
	for k := range e.props {
		p := &e.props[k]
		if err := p.w.bind(rec.Column(e.m.props[k].col)); err != nil {
			return fmt.Errorf("binding column %q: %w", p.column, err)
		}
	}
	return nil
}

// AppendRow appends the members of row's event or purchase object, without braces: the
// identifier, then app_id, then name (events) or product_id, currency, price and quantity
// (purchases), then time and properties. On Skip or Reject dst is returned unchanged. Reset must
// have succeeded. The checks run in member order, so a row with two problems is rejected for the
// first; the key comes first of all, as for attributes.
func (e *EventEncoder) AppendRow(dst []byte, row int) ([]byte, EventResult) {
	start := len(dst)
	var res EventResult
	dst, res.RowResult = e.base.AppendRow(dst, row)
	if res.Skip != SkipNone || res.Reject != nil {
		return dst[:start], res
	}
	timeSpan := [2]int{-1, -1} // the sync start's member, left out of the identity
	for _, role := range kindRoles[e.m.kind] {
		var reason string
		mark := len(dst)
		if dst, reason = e.appendRole(dst, role, row, &res); reason != "" {
			res.Reject = &FieldError{Row: row, Column: e.roleColumn(role), Attribute: roleInfo[role].member,
				Reason: reason, Code: RejectInvalidValue}
		}
		if res.Reject != nil { // from the reason, or from a property column (appendProperties)
			return dst[:start], res
		}
		if role == roleTime && !res.TimeFromRow {
			timeSpan = [2]int{mark, len(dst)}
		}
	}
	res.NullsDropped = e.nulls
	if e.m.cols[roleID] < 0 {
		members := dst[start:]
		if timeSpan[0] < 0 {
			res.ID = e.contentID(members, nil)
		} else {
			res.ID = e.contentID(members[:timeSpan[0]-start], members[timeSpan[1]-start:])
		}
	}
	return dst, res
}

// roleColumn names the column of a role, or "" for a constant.
func (e *EventEncoder) roleColumn(role eventRole) string {
	if c := e.m.cols[role]; c >= 0 {
		return e.m.base.schema.Field(c).Name
	}
	return ""
}

// appendRole writes one member (nothing for an absent optional one), or returns why it cannot.
func (e *EventEncoder) appendRole(dst []byte, role eventRole, row int, res *EventResult) ([]byte, string) {
	if c := e.consts[role]; c != nil {
		return append(dst, c...), ""
	}
	switch role {
	case roleName:
		return e.appendText(dst, "name", e.name, row, reasonNameMissing)
	case roleAppID:
		if e.app == nil || e.app.isNull(row) {
			return dst, ""
		}
		return e.appendText(dst, "app_id", e.app, row, reasonAppIDMissing)
	case roleProductID:
		return e.appendKeyText(dst, "product_id", e.product, row, reasonProductMissing)
	case roleCurrency:
		return e.appendCurrency(dst, row)
	case rolePrice:
		if e.price.isNull(row) {
			return dst, reasonPriceMissing
		}
		return e.price.appendValue(appendKey(append(dst, ','), "price"), row)
	case roleQuantity:
		return e.appendQuantity(dst, row)
	case roleTime:
		return e.appendTime(dst, row, res)
	case roleProperties:
		return e.appendProperties(dst, row, res)
	case roleID:
		return dst, e.readID(row, res)
	}
	return dst, ""
}

// appendText writes a required string member of at most 255 characters.
func (e *EventEncoder) appendText(dst []byte, member string, src stringSource, row int, missing string) ([]byte, string) {
	if src.isNull(row) || src.str(row) == "" {
		return dst, missing
	}
	return appendString(appendKey(append(dst, ','), member), src.str(row), MaxStringChars, false)
}

// appendKeyText writes a string, integer or uuid column as a string member.
func (e *EventEncoder) appendKeyText(dst []byte, member string, src keyReader, row int, missing string) ([]byte, string) {
	if src.isNull(row) {
		return dst, missing
	}
	e.text = src.appendText(e.text[:0], row)
	if len(e.text) == 0 {
		return dst, missing
	}
	return appendString(appendKey(append(dst, ','), member), bytesToString(e.text), MaxStringChars, false)
}

func (e *EventEncoder) appendCurrency(dst []byte, row int) ([]byte, string) {
	if e.currency.isNull(row) {
		return dst, reasonCurrencyMissing
	}
	s := e.currency.str(row)
	if !validCurrency(s) {
		return dst, reasonCurrency
	}
	dst = append(appendKey(append(dst, ','), "currency"), '"')
	for i := 0; i < 3; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return append(dst, '"'), ""
}

// appendQuantity writes the quantity, or nothing for a null one (Braze then records 1).
func (e *EventEncoder) appendQuantity(dst []byte, row int) ([]byte, string) {
	if e.quantity == nil || e.quantity.isNull(row) {
		return dst, ""
	}
	q, ok := e.quantity.int64(row)
	if !ok || q < minQuantity || q > maxQuantity {
		return dst, reasonQuantity
	}
	dst = appendKey(append(dst, ','), "quantity")
	return strconv.AppendInt(dst, q, 10), ""
}

// appendTime writes the row's time, or the sync's start when it has none.
func (e *EventEncoder) appendTime(dst []byte, row int, res *EventResult) ([]byte, string) {
	if e.time == nil || e.time.isNull(row) {
		res.Time = e.syncMillis
		return append(dst, e.syncMember...), ""
	}
	res.Time, res.TimeFromRow = e.time.millis(row), true
	return e.time.appendValue(appendKey(append(dst, ','), "time"), row)
}

// readID reads the declared identity of the row.
func (e *EventEncoder) readID(row int, res *EventResult) string {
	if e.id == nil {
		return ""
	}
	if e.id.isNull(row) {
		return reasonIDMissing
	}
	e.text = e.id.appendText(e.text[:0], row)
	if len(e.text) == 0 {
		return reasonIDMissing
	}
	res.ID = e.declaredID(e.text)
	return ""
}

// appendProperties writes ,"properties":{…} from the property columns and the properties column,
// or nothing when the row has none. A bad property value rejects the row naming its column.
func (e *EventEncoder) appendProperties(dst []byte, row int, res *EventResult) ([]byte, string) {
	start := len(dst)
	dst = append(appendKey(append(dst, ','), "properties"), '{')
	open := len(dst)
	e.names = e.names[:0]
	object := false
	for k := range e.props {
		p := &e.props[k]
		if p.w.isNull(row) {
			continue
		}
		if len(e.names) > 0 {
			dst = append(dst, ',')
		}
		var reason string
		if dst, reason = p.w.appendValue(append(dst, p.member...), row); reason != "" {
			res.Reject = &FieldError{Row: row, Column: p.column, Attribute: "properties." + p.name, Reason: reason, Code: RejectInvalidValue}
			return dst[:start], ""
		}
		e.names = append(e.names, p.name)
		object = object || p.object
	}
	if c := e.m.cols[roleProperties]; c >= 0 && !e.propsJSON.isNull(row) {
		var reason string
		var complex bool
		if dst, complex, reason = e.appendJSONProperties(dst, e.propsJSON.arr.Value(row)); reason != "" {
			return dst[:start], reason
		}
		object = object || complex
	}
	if len(e.names) == 0 {
		return dst[:start], ""
	}
	if object && len(dst)-open+1 > maxPropertiesBytes {
		return dst[:start], reasonPropertiesTooBig
	}
	res.Properties = len(e.names)
	return append(dst, '}'), ""
}

// appendJSONProperties writes the members of a JSON object cell as properties, after those already
// written (e.names). Member names follow the property rules; member values are written as a JSON
// column's values are (appendBrazeJSON): copied as written, nulls left out, nested keys and
// strings checked. complex reports an array or object among the values.
func (e *EventEncoder) appendJSONProperties(dst, raw []byte) (out []byte, complex bool, reason string) {
	r := jsonRewriter{in: raw, out: dst}
	if r.peek() != '{' {
		return dst, false, reasonPropsNotObject
	}
	r.pos++
	for r.reason == "" && r.peek() != '}' {
		mark := len(r.out)
		if len(e.names) > 0 {
			r.out = append(r.out, ',')
		}
		if r.peek() != '"' {
			r.fail(reasonInvalidJSON)
			break
		}
		r.str(true)
		if r.reason != "" {
			break
		}
		name := bytesToString(r.key)
		if validatePropertyName(name) != nil {
			return dst, false, reasonPropertyName
		}
		if e.hasName(name) {
			return dst, false, reasonPropertyTwice
		}
		if r.peek() != ':' {
			r.fail(reasonInvalidJSON)
			break
		}
		r.pos++
		r.out = append(r.out, ':')
		if r.skipNull() {
			r.out = r.out[:mark]
		} else {
			e.keyBuf = append(e.keyBuf[:0], r.key...) // r.key is reused by nested members
			if kind := r.value(1); kind == jsonArray || kind == jsonObject {
				complex = true
			}
			e.names = append(e.names, string(e.keyBuf))
		}
		if r.peek() == ',' {
			r.pos++
			if r.peek() == '}' {
				r.fail(reasonInvalidJSON) // a trailing comma
			}
		} else if r.peek() != '}' {
			r.fail(reasonInvalidJSON)
		}
	}
	if r.reason == "" {
		r.pos++ // the closing brace
		r.space()
		if r.pos != len(r.in) {
			r.fail(reasonInvalidJSON)
		}
	}
	if r.reason != "" {
		return dst, false, r.reason
	}
	e.nulls += r.nulls
	return r.out, complex, ""
}

// hasName reports a property already written in this row.
func (e *EventEncoder) hasName(name string) bool {
	for _, n := range e.names {
		if n == name {
			return true
		}
	}
	return false
}

// timeReader reads a time column: its value as an ISO 8601 member value, and in milliseconds.
type timeReader interface {
	valueWriter
	millis(i int) int64
}

func newTimeReader(dt arrow.DataType) (timeReader, error) {
	switch t := dt.(type) {
	case *arrow.TimestampType:
		return &timestampTime{timestampWriter{unit: t.Unit, place: placeTop}}, nil
	case *arrow.Date32Type:
		return &dateTime[int32]{dateWriter[int32]{perDay: 1, place: placeTop}}, nil
	case *arrow.Date64Type:
		return &dateTime[int64]{dateWriter[int64]{perDay: msPerDay, place: placeTop}}, nil
	}
	return nil, fmt.Errorf("type %s is not a timestamp or date", dt)
}

type timestampTime struct{ timestampWriter }

func (w *timestampTime) millis(i int) int64 {
	v := w.vals[i]
	if w.perSec < 1000 {
		return v * 1000
	}
	return floorDiv(v, w.perSec/1000)
}

type dateTime[T int32 | int64] struct{ dateWriter[T] }

func (w *dateTime[T]) millis(i int) int64 { return w.days(i) * msPerDay }

// intReader reads an integer column (or a decimal of scale 0) as int64.
type intReader interface {
	bind(a arrow.Array) error
	isNull(i int) bool
	int64(i int) (int64, bool)
}

func newIntReader(dt arrow.DataType) (intReader, error) {
	switch t := dt.(type) {
	case *arrow.Int8Type:
		return &intOf[int8]{}, nil
	case *arrow.Int16Type:
		return &intOf[int16]{}, nil
	case *arrow.Int32Type:
		return &intOf[int32]{}, nil
	case *arrow.Int64Type:
		return &intOf[int64]{}, nil
	case *arrow.Uint8Type:
		return &uintOf[uint8]{}, nil
	case *arrow.Uint16Type:
		return &uintOf[uint16]{}, nil
	case *arrow.Uint32Type:
		return &uintOf[uint32]{}, nil
	case *arrow.Uint64Type:
		return &uintOf[uint64]{}, nil
	case *arrow.Decimal128Type:
		if t.Scale == 0 {
			return &decimalInt{}, nil
		}
	}
	return nil, fmt.Errorf("type %s is not an integer", dt)
}

type intOf[T int8 | int16 | int32 | int64] struct{ intWriter[T] }

func (r *intOf[T]) int64(i int) (int64, bool) { return int64(r.vals[i]), true }

type uintOf[T uint8 | uint16 | uint32 | uint64] struct{ uintWriter[T] }

func (r *uintOf[T]) int64(i int) (int64, bool) {
	v := uint64(r.vals[i])
	return int64(v), v <= 1<<62
}

type decimalInt struct {
	validity
	arr *array.Decimal128
}

func (r *decimalInt) bind(a arrow.Array) error {
	d, ok := a.(*array.Decimal128)
	if !ok {
		return bindErr("decimal128", a)
	}
	r.validity.set(a)
	r.arr = d
	return nil
}

func (r *decimalInt) int64(i int) (int64, bool) {
	v := r.arr.Value(i)
	hi, lo := v.HighBits(), v.LowBits()
	ok := (hi == 0 && lo <= 1<<62) || (hi == -1 && lo >= 1<<63)
	return int64(lo), ok
}
