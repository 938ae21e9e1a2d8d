package looker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Field is one column's metadata from the "fields" section of a json_detail
// document (a subset of Looker's LookmlModelExploreField).
type Field struct {
	Name      string   `json:"name"`
	Label     string   `json:"label"`
	Type      string   `json:"type"`
	Tags      []string `json:"tags"`
	IsNumeric bool     `json:"is_numeric"`
	Measure   bool     `json:"measure"`
}

// Fields is the "fields" section of a json_detail document.
type Fields struct {
	Dimensions        []Field `json:"dimensions"`
	Measures          []Field `json:"measures"`
	TableCalculations []Field `json:"table_calculations"`
	Pivots            []Field `json:"pivots"`
	Filters           []Field `json:"filters"`
	Parameters        []Field `json:"parameters"`
}

// Pivot is one entry of the top-level "pivots" array: one column group of a
// pivoted result.
type Pivot struct {
	Key     string         `json:"key"`
	IsTotal bool           `json:"is_total"`
	Data    map[string]any `json:"data"`
}

// Header is everything a json_detail document says about its columns.
type Header struct {
	Fields   Fields
	Pivots   []Pivot
	Timezone string
}

// Pivoted reports whether the result is pivoted.
func (h *Header) Pivoted() bool { return len(h.Fields.Pivots) > 0 }

// Row is one element of "data": field name → raw cell JSON. A plain cell is
// {"value": …}; a pivoted cell is {pivotKey: {"value": …}, …}.
type Row map[string]json.RawMessage

// Handler receives a json_detail document piece by piece.
type Handler struct {
	// OnHeader is called exactly once, before the first OnRow.
	OnHeader func(*Header) error
	// OnRow is called for each data row; the row is not retained afterwards.
	OnRow func(Row) error
}

// QueryError is returned when Looker answered a query with an "errors" list
// (json_detail reports SQL errors with HTTP 200).
type QueryError struct{ Messages []string }

func (e *QueryError) Error() string {
	return "looker query failed: " + strings.Join(e.Messages, "; ")
}

// DecodeJSONDetail streams a json_detail document from r. Rows are decoded one
// at a time, so memory stays flat however large the result is, provided
// "fields" (and "pivots", for a pivoted query) come before "data", which is the
// order Looker writes. Looker does not document that order, so when "data"
// comes first the rows are buffered until the metadata has been read.
//
// Rows are the hot path: each is scanned once by hand (scan.go) and its cells
// are slices of one copy of the row's bytes. The small metadata sections go
// through encoding/json.
func DecodeJSONDetail(r io.Reader, h Handler) error {
	s := detailStream{in: jsonStream{r: r}, h: h, keys: map[string]string{}}
	return s.run()
}

type detailStream struct {
	in          jsonStream
	h           Handler
	header      Header
	sawFields   bool
	sawPivots   bool
	headerSent  bool
	sawData     bool
	buffered    []Row
	queryErrors []string
	keys        map[string]string // interned field names, so rows share them
	cells       []cell            // the members of the row being read
	limits      DecodeLimits      // limits.go; zero for DecodeJSONDetail
}

func (s *detailStream) run() error {
	if err := s.in.expect('{'); err != nil {
		return fmt.Errorf("reading json_detail: %w", err)
	}
	more, err := s.in.first('}')
	for err == nil && more {
		var key string
		if key, err = s.in.key(); err != nil {
			return fmt.Errorf("reading json_detail key: %w", err)
		}
		if err := s.member(key); err != nil {
			return err
		}
		more, err = s.in.next('}')
	}
	if err != nil {
		return fmt.Errorf("reading json_detail end: %w", err)
	}
	if len(s.queryErrors) > 0 {
		return &QueryError{Messages: s.queryErrors}
	}
	if !s.sawFields {
		return errors.New("reading json_detail: document has no \"fields\" section")
	}
	if err := s.sendHeader(); err != nil {
		return err
	}
	for i, row := range s.buffered {
		s.buffered[i] = nil
		if err := s.h.OnRow(row); err != nil {
			return err
		}
	}
	return nil
}

func (s *detailStream) member(key string) error {
	var err error
	switch key {
	case "fields":
		err = s.decode(&s.header.Fields)
		s.sawFields = true
	case "pivots":
		err = s.decode(&s.header.Pivots)
		s.sawPivots = true
	case "timezone":
		var tz *string
		err = s.decode(&tz)
		if tz != nil {
			s.header.Timezone = *tz
		}
	case "errors":
		err = s.decodeErrors()
	case "data":
		if s.sawData {
			return errors.New("reading json_detail: \"data\" appears twice")
		}
		s.sawData = true
		return s.data()
	default:
		_, err = s.in.value()
	}
	if err != nil {
		return fmt.Errorf("reading json_detail %q: %w", key, err)
	}
	return nil
}

// decode reads the next value into v with encoding/json, numbers kept as
// json.Number.
func (s *detailStream) decode(v any) error {
	raw, err := s.in.value()
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

func (s *detailStream) decodeErrors() error {
	var list []struct {
		Message string `json:"message"`
	}
	if err := s.decode(&list); err != nil {
		return err
	}
	for _, e := range list {
		s.queryErrors = append(s.queryErrors, e.Message)
	}
	return nil
}

// ready reports whether enough metadata has been seen to describe columns.
func (s *detailStream) ready() bool {
	return s.sawFields && (s.sawPivots || !s.header.Pivoted())
}

func (s *detailStream) sendHeader() error {
	if s.headerSent {
		return nil
	}
	s.headerSent = true
	if s.h.OnHeader == nil {
		return nil
	}
	return s.h.OnHeader(&s.header)
}

func (s *detailStream) data() error {
	if err := s.in.expect('['); err != nil {
		return fmt.Errorf("reading json_detail data: %w", err)
	}
	defer s.dataBounds()()
	stream := s.ready()
	if stream {
		if err := s.sendHeader(); err != nil {
			return err
		}
	}
	more, err := s.in.first(']')
	for err == nil && more {
		var row Row
		if row, err = s.row(); err != nil {
			return fmt.Errorf("reading json_detail row: %w", err)
		}
		if !stream {
			// Metadata not seen yet: keep the row until it is.
			if err := s.buffer(row); err != nil {
				return err
			}
		} else if err := s.h.OnRow(row); err != nil {
			return err
		}
		more, err = s.in.next(']')
	}
	if err != nil {
		return fmt.Errorf("reading json_detail data end: %w", err)
	}
	return nil
}

// errRowNotObject matches what encoding/json refused: a row that is neither
// an object nor null.
var errRowNotObject = errors.New("row is not a JSON object")

// row reads one element of "data" in a single pass over its bytes, which are
// then copied once; the cells are slices of that copy, so a row handed on
// never changes.
func (s *detailStream) row() (Row, error) {
	start, end, err := s.in.step(s.scanRow)
	if err != nil {
		return nil, err
	}
	switch s.in.buf[start] {
	case 'n':
		return nil, nil // null: encoding/json left the map nil
	case '{':
	default:
		return nil, errRowNotObject
	}
	b := bytes.Clone(s.in.buf[start:end])
	row := make(Row, len(s.cells))
	for _, c := range s.cells {
		row[s.key(b[c.key:c.keyEnd], c.escaped)] = json.RawMessage(b[c.val:c.end:c.end])
	}
	return row, nil
}

// cell locates one member of a row object, relative to the row's start.
type cell struct {
	key, keyEnd, val, end int
	escaped               bool
}

// scanRow is a jsonStream step: it scans one row value, recording each
// member of an object row in s.cells.
func (s *detailStream) scanRow(b []byte, i int, final bool) (int, int, error) {
	s.cells = s.cells[:0]
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, 0, errShort
	}
	start := i
	if b[i] != '{' {
		end, err := scanValue(b, i, final, maxNesting)
		return start, end, err
	}
	if i = skipSpace(b, i+1); i >= len(b) {
		return 0, 0, errShort
	}
	if b[i] == '}' {
		return start, i + 1, nil
	}
	for {
		if b[i] != '"' {
			return 0, 0, syntaxError("expected object key", i)
		}
		keyEnd, escaped, err := scanString(b, i)
		if err != nil {
			return 0, 0, err
		}
		val, err := expectColon(b, keyEnd)
		if err != nil {
			return 0, 0, err
		}
		val = skipSpace(b, val)
		// Cells nest one level below the row, which encoding/json counts.
		end, err := scanValue(b, val, false, maxNesting-1)
		if err != nil {
			return 0, 0, err
		}
		s.cells = append(s.cells, cell{key: i - start, keyEnd: keyEnd - start, val: val - start, end: end - start, escaped: escaped})
		if i = skipSpace(b, end); i >= len(b) {
			return 0, 0, errShort
		}
		switch b[i] {
		case '}':
			return start, i + 1, nil
		case ',':
			if i = skipSpace(b, i+1); i >= len(b) {
				return 0, 0, errShort
			}
		default:
			return 0, 0, syntaxError("expected ',' or '}'", i)
		}
	}
}

// key returns a row key's text, shared between rows when it repeats.
func (s *detailStream) key(quoted []byte, escaped bool) string {
	if k, ok := s.keys[string(quoted)]; ok {
		return k
	}
	k := unquote(quoted, escaped)
	if len(s.keys) < 4096 { // field names repeat; anything else is not kept
		s.keys[string(quoted)] = k
	}
	return k
}

// jsonStream reads JSON from r through a buffer, one step at a time. A step
// that runs out of buffered bytes is retried after reading more, so a value
// is always contiguous in buf.
type jsonStream struct {
	r   io.Reader
	buf []byte
	pos int   // buf[pos:] is not consumed yet
	eof bool  // r has no more bytes
	err error // the read error that ended r, if not io.EOF

	limit     int    // the most a value may fill of buf (0: none), see limits.go
	limitWhat string // what the limit applies to, for its error
}

const streamBuffer = 64 << 10

// step runs f on the unconsumed bytes, reading more while f reports
// errShort, and consumes up to the end f returns. start is where f's token
// begins; buf[start:end] is valid until the next step.
func (j *jsonStream) step(f func(b []byte, i int, final bool) (start, end int, err error)) (int, int, error) {
	for {
		start, end, err := f(j.buf, j.pos, j.eof)
		if err != errShort {
			if err != nil {
				return 0, 0, err
			}
			j.pos = end
			return start, end, nil
		}
		if j.eof {
			if j.err != nil {
				return 0, 0, j.err
			}
			return 0, 0, io.ErrUnexpectedEOF
		}
		// Every step skips leading whitespace, so it need not be kept.
		j.pos = skipSpace(j.buf, j.pos)
		j.fill()
	}
}

// fill drops consumed bytes and reads more, growing buf if a value fills it.
func (j *jsonStream) fill() {
	if j.pos > 0 {
		n := copy(j.buf, j.buf[j.pos:])
		j.buf, j.pos = j.buf[:n], 0
	}
	if len(j.buf) == cap(j.buf) {
		if j.overLimit() {
			return
		}
		grown := make([]byte, len(j.buf), max(2*cap(j.buf), streamBuffer))
		copy(grown, j.buf)
		j.buf = grown
	}
	n, err := j.r.Read(j.buf[len(j.buf):cap(j.buf)])
	j.buf = j.buf[:len(j.buf)+n]
	if err != nil {
		j.eof = true
		if err != io.EOF {
			j.err = err
		}
	}
}

// peekByte steps over whitespace to the next byte without consuming it.
func peekByte(b []byte, i int, _ bool) (int, int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, 0, errShort
	}
	return i, i, nil
}

// expect consumes delim.
func (j *jsonStream) expect(delim byte) error {
	i, _, err := j.step(peekByte)
	if err != nil {
		return err
	}
	if j.buf[i] != delim {
		return syntaxError(fmt.Sprintf("expected %q", delim), i)
	}
	j.pos = i + 1
	return nil
}

// first reports whether a container just opened has an element, consuming
// closer if not.
func (j *jsonStream) first(closer byte) (bool, error) {
	i, _, err := j.step(peekByte)
	if err != nil {
		return false, err
	}
	if j.buf[i] == closer {
		j.pos = i + 1
		return false, nil
	}
	return true, nil
}

// next consumes the ',' before another element, reporting true, or closer.
func (j *jsonStream) next(closer byte) (bool, error) {
	i, _, err := j.step(peekByte)
	if err != nil {
		return false, err
	}
	switch j.buf[i] {
	case ',':
		j.pos = i + 1
		return true, nil
	case closer:
		j.pos = i + 1
		return false, nil
	}
	return false, syntaxError(fmt.Sprintf("expected ',' or %q", closer), i)
}

// key reads an object key and its colon.
func (j *jsonStream) key() (string, error) {
	var escaped bool
	start, end, err := j.step(func(b []byte, i int, _ bool) (int, int, error) {
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, 0, errShort
		}
		if b[i] != '"' {
			return 0, 0, syntaxError("expected object key", i)
		}
		end, esc, err := scanString(b, i)
		if err != nil {
			return 0, 0, err
		}
		escaped = esc
		after, err := expectColon(b, end)
		return i, after, err
	})
	if err != nil {
		return "", err
	}
	quoted := j.buf[start:end]
	return unquote(quoted[:bytes.LastIndexByte(quoted, '"')+1], escaped), nil
}

// value reads one whole JSON value; the bytes are valid until the next step.
func (j *jsonStream) value() ([]byte, error) {
	start, end, err := j.step(scanValueStep)
	if err != nil {
		return nil, err
	}
	return j.buf[start:end], nil
}

func scanValueStep(b []byte, i int, final bool) (int, int, error) {
	i = skipSpace(b, i)
	end, err := scanValue(b, i, final, maxNesting)
	return i, end, err
}
