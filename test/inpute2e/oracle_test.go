package inpute2e

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// The oracle reads each corpus file on its own, without the file source's code, as rows of
// source values; the checks compare what Braze stored with these, row by row.

// srcRow is one row as the source file holds it.
type srcRow struct {
	key        *string              // nil: null
	attrs      map[string]*srcValue // by attribute name (the column's braze[...]); nil value: null
	unreadable bool                 // the oracle could not read the row either
}

// srcValue is a cell: CSV text, or an NDJSON/Parquet value decoded with UseNumber.
type srcValue struct {
	text   string
	json   any
	isJSON bool
}

func attrOf(col string) (string, bool) {
	if strings.HasPrefix(col, "braze[") && strings.HasSuffix(col, "]") {
		return col[len("braze[") : len(col)-1], true
	}
	return "", false
}

// readCSV reads a CSV file the way the docs describe one: a header, empty cells are null.
func readCSV(body []byte, keyCol string) []srcRow {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	var rows []srcRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows
		}
		row := srcRow{attrs: map[string]*srcValue{}}
		if err != nil || len(rec) != len(header) {
			row.unreadable = true
			rows = append(rows, row)
			continue
		}
		for i, col := range header {
			switch attr, ok := attrOf(col); {
			case col == keyCol:
				if rec[i] != "" {
					k := rec[i]
					row.key = &k
				}
			case ok:
				row.attrs[attr] = nil
				if rec[i] != "" {
					row.attrs[attr] = &srcValue{text: rec[i]}
				}
			}
		}
		rows = append(rows, row)
	}
}

// readNDJSON reads one JSON object per non-blank line; keys are compared byte for byte, so a key
// holding invalid UTF-8 is read from the raw line.
func readNDJSON(body []byte, keyCol string) []srcRow {
	var rows []srcRow
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		row := srcRow{attrs: map[string]*srcValue{}}
		members, ok := objectMembers(line)
		if !ok {
			row.unreadable = true
			rows = append(rows, row)
			continue
		}
		for k, raw := range members {
			switch attr, isAttr := attrOf(k); {
			case k == keyCol:
				if s, ok := rawString(raw); ok {
					row.key = &s
				} else if string(raw) != "null" {
					s := string(raw)
					row.key = &s
				}
			case isAttr:
				row.attrs[attr] = nil
				if string(raw) != "null" {
					dec := json.NewDecoder(bytes.NewReader(raw))
					dec.UseNumber()
					var v any
					_ = dec.Decode(&v)
					row.attrs[attr] = &srcValue{json: v, isJSON: true}
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// objectMembers splits a line into its members with raw values; false when the line is not a JSON
// object or repeats a key.
func objectMembers(line []byte) (map[string]json.RawMessage, bool) {
	if !json.Valid(line) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		start := dec.InputOffset()
		if _, err := dec.Token(); err != nil {
			return nil, false
		}
		// The key as written: encoding/json would turn invalid UTF-8 into U+FFFD.
		key, _ := rawString(bytes.TrimLeft(line[start:dec.InputOffset()], " \t\r\n,"))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if _, dup := out[key]; dup {
			return nil, false
		}
		out[key] = raw
	}
	return out, true
}

// rawString returns the bytes of a JSON string value as written when it has no escapes (so
// invalid UTF-8 stays), else its decoded text.
func rawString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if !bytes.Contains(raw, []byte{'\\'}) {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// same reports whether stored (what the Braze emulator holds) is the source value src.
func same(src *srcValue, stored any) bool {
	if src.isJSON {
		return sameJSON(src.json, stored)
	}
	return sameText(src.text, stored)
}

func sameText(s string, stored any) bool {
	switch v := stored.(type) {
	case string:
		return s == v
	case bool:
		return strings.EqualFold(s, strconv.FormatBool(v))
	case int64, float64, json.Number:
		return sameNumber(s, v)
	case time.Time:
		t, ok := parseInstant(s)
		return ok && t.Equal(v)
	}
	return false
}

// sameNumber compares a number's source text with its stored value: exactly for integers, as the
// float64 Braze keeps otherwise.
func sameNumber(s string, stored any) bool {
	switch v := stored.(type) {
	case int64:
		r, ok := new(big.Rat).SetString(s)
		return ok && r.IsInt() && r.Num().IsInt64() && r.Num().Int64() == v
	case float64:
		f, err := strconv.ParseFloat(s, 64)
		return err == nil && f == v
	case json.Number:
		return sameNumber(s, mustNumber(v))
	}
	return false
}

func mustNumber(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}

var instantLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", time.DateOnly}

func parseInstant(s string) (time.Time, bool) {
	for _, l := range instantLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// sameJSON compares a decoded source value with the stored one; nulls inside the source value are
// what brazesync leaves out.
func sameJSON(src, stored any) bool {
	switch s := src.(type) {
	case string:
		return sameText(s, stored)
	case json.Number:
		return sameNumber(s.String(), stored)
	case bool:
		b, ok := stored.(bool)
		return ok && b == s
	case []any:
		st, ok := stored.([]any)
		kept := withoutNulls(s)
		if !ok || len(st) != len(kept) {
			return false
		}
		for i := range kept {
			if !sameJSON(kept[i], st[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		st, ok := stored.(map[string]any)
		if !ok {
			return false
		}
		n := 0
		for k, v := range s {
			if v == nil {
				continue
			}
			n++
			if !sameJSON(v, st[k]) {
				return false
			}
		}
		return n == len(st)
	}
	return false
}

func withoutNulls(a []any) []any {
	var out []any
	for _, e := range a {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// nestedNulls counts the nulls inside a source value (not the value itself).
func nestedNulls(v any) int64 {
	var n int64
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if e == nil {
				n++
			} else {
				n += nestedNulls(e)
			}
		}
	case map[string]any:
		for _, e := range x {
			if e == nil {
				n++
			} else {
				n += nestedNulls(e)
			}
		}
	}
	return n
}

// deadLetter is one line of the dead-letter file.
type deadLetter struct {
	Table     string `json:"table"`
	Row       int    `json:"row"`
	Key       string `json:"key"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail"`
	Column    string `json:"column"`
	Attribute string `json:"attribute"`
}

func (d deadLetter) String() string {
	return fmt.Sprintf("%s row %d: %s: %s (column %q)", d.Table, d.Row, d.Reason, d.Detail, d.Column)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
