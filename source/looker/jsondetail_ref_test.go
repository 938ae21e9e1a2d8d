package looker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodeJSONDetailRef is the encoding/json decoder DecodeJSONDetail replaced,
// kept as the reference the hand-written scanner must agree with.
func decodeJSONDetailRef(r io.Reader, h Handler) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	s := refStream{dec: dec, h: h}
	return s.run()
}

type refStream struct {
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

func (s *refStream) run() error {
	if err := refExpectDelim(s.dec, '{'); err != nil {
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

func (s *refStream) member(key string) error {
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

func (s *refStream) decodeErrors() error {
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
func (s *refStream) ready() bool {
	return s.sawFields && (s.sawPivots || !s.header.Pivoted())
}

func (s *refStream) sendHeader() error {
	if s.headerSent {
		return nil
	}
	s.headerSent = true
	if s.h.OnHeader == nil {
		return nil
	}
	return s.h.OnHeader(&s.header)
}

func (s *refStream) data() error {
	if err := refExpectDelim(s.dec, '['); err != nil {
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

func refExpectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, got %v", want, tok)
	}
	return nil
}
