package looker

import (
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
func DecodeJSONDetail(r io.Reader, h Handler) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	s := detailStream{dec: dec, h: h}
	return s.run()
}

type detailStream struct {
	dec         *json.Decoder
	h           Handler
	header      Header
	sawFields   bool
	sawPivots   bool
	headerSent  bool
	sawData     bool
	buffered    []Row
	queryErrors []string
}

func (s *detailStream) run() error {
	if err := expectDelim(s.dec, '{'); err != nil {
		return fmt.Errorf("reading json_detail: %w", err)
	}
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return fmt.Errorf("reading json_detail key: %w", err)
		}
		key, _ := tok.(string)
		if err := s.member(key); err != nil {
			return err
		}
	}
	if _, err := s.dec.Token(); err != nil {
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
		err = s.dec.Decode(&s.header.Fields)
		s.sawFields = true
	case "pivots":
		err = s.dec.Decode(&s.header.Pivots)
		s.sawPivots = true
	case "timezone":
		var tz *string
		err = s.dec.Decode(&tz)
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
		var skip json.RawMessage
		err = s.dec.Decode(&skip)
	}
	if err != nil {
		return fmt.Errorf("reading json_detail %q: %w", key, err)
	}
	return nil
}

func (s *detailStream) decodeErrors() error {
	var list []struct {
		Message string `json:"message"`
	}
	if err := s.dec.Decode(&list); err != nil {
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
	if err := expectDelim(s.dec, '['); err != nil {
		return fmt.Errorf("reading json_detail data: %w", err)
	}
	stream := s.ready()
	if stream {
		if err := s.sendHeader(); err != nil {
			return err
		}
	}
	for s.dec.More() {
		var row Row
		if err := s.dec.Decode(&row); err != nil {
			return fmt.Errorf("reading json_detail row: %w", err)
		}
		if !stream {
			// Metadata not seen yet: keep the row until it is.
			s.buffered = append(s.buffered, row)
			continue
		}
		if err := s.h.OnRow(row); err != nil {
			return err
		}
	}
	if _, err := s.dec.Token(); err != nil {
		return fmt.Errorf("reading json_detail data end: %w", err)
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, got %v", want, tok)
	}
	return nil
}
