package file

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/types"

	"github.com/brazesync/brazesync/source/sourceerr"
)

// NDJSON files: one JSON object per line; blank lines are not rows. Every key of every line is a
// column (in the order keys first appear), typed by inference over the whole file (infer.go).
// Strings are kept byte for byte, invalid UTF-8 included, so that the destination refuses such a
// value (or key) instead of sending a replacement character. A line that is not a JSON object, or
// holds a key twice, is a row the destination dead-letters, naming the line.

// maxLine bounds one NDJSON line.
const maxLine = 64 << 20

func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), maxLine)
	return sc
}

// member is one top-level member of a line: its key, decoded, and its raw value.
type member struct {
	key   []byte
	value []byte
}

// splitLine splits a line into its members, or says why it is not a row of columns.
func splitLine(line []byte, dst []member) ([]member, string) {
	if !json.Valid(line) {
		return dst, "line is not valid JSON"
	}
	i := skipSpace(line, 0)
	if line[i] != '{' {
		return dst, "line is not a JSON object"
	}
	i = skipSpace(line, i+1)
	for line[i] != '}' {
		end := skipValue(line, i)
		key := unquote(line[i:end])
		i = skipSpace(line, skipSpace(line, end)+1) // past ':'
		vend := skipValue(line, i)
		dst = append(dst, member{key: key, value: line[i:vend]})
		i = skipSpace(line, vend)
		if line[i] == ',' {
			i = skipSpace(line, i+1)
		}
	}
	return dst, ""
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the value starting at b[i]; b is valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for j := i + 1; ; j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch b[j] {
			case '"':
				j = skipValue(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i
	for j < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[j])) {
		j++
	}
	return j
}

// unquote decodes a JSON string token, keeping bytes that are not valid UTF-8 as they are (and
// writing an unpaired surrogate escape as the invalid bytes it would take), so that nothing that
// is not text becomes text on the way.
func unquote(tok []byte) []byte {
	s := tok[1 : len(tok)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i+1 : i+5])
			i += 4
			if r >= 0xd800 && r < 0xdc00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if lo := hex4(s[i+3 : i+7]); lo >= 0xdc00 && lo < 0xe000 {
					out = utf8.AppendRune(out, 0x10000+(r-0xd800)<<10+(lo-0xdc00))
					i += 6
					continue
				}
			}
			if r >= 0xd800 && r < 0xe000 { // unpaired: its three-byte form is not UTF-8
				out = append(out, byte(0xe0|r>>12), byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f))
				continue
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, c)
		}
	}
	return out
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		default:
			r = r<<4 | rune(c-'A'+10)
		}
	}
	return r
}

// valueKind classifies one raw JSON value.
func valueKind(raw []byte) kind {
	switch c := raw[0]; {
	case c == 'n':
		return kindNull
	case c == 't' || c == 'f':
		return kindBool
	case c == '"':
		return textKind(string(unquote(raw)), false)
	case c == '[':
		if stringArray(raw) {
			return kindStrings
		}
	case c == '{':
	default:
		k, _ := numberKind(string(raw))
		return k
	}
	return kindJSON
}

// stringArray reports an array holding only strings and nulls.
func stringArray(raw []byte) bool {
	return eachElement(raw, func(e []byte) bool { return e[0] == '"' || e[0] == 'n' })
}

// eachElement calls fn for each element of a raw array until fn returns false.
func eachElement(raw []byte, fn func([]byte) bool) bool {
	i := skipSpace(raw, 1)
	for raw[i] != ']' {
		end := skipValue(raw, i)
		if !fn(raw[i:end]) {
			return false
		}
		i = skipSpace(raw, end)
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return true
}

// ndjsonLine is one line split into columns, shared by both passes.
type ndjsonLine struct {
	index   map[string]int // key -> column
	members []member
	values  [][]byte // per column: the raw value of this line, nil when absent
}

// split reads one line; problem names why it is not a row, with the column when there is one.
func (l *ndjsonLine) split(line []byte, addColumn func(key []byte) int) (column, problem string) {
	var p string
	if l.members, p = splitLine(line, l.members[:0]); p != "" {
		return "", p
	}
	for i := range l.values {
		l.values[i] = nil
	}
	for _, m := range l.members {
		idx, ok := l.index[string(m.key)]
		if !ok {
			idx = addColumn(m.key)
			if idx < 0 {
				return string(m.key), errChanged.Error()
			}
		}
		for len(l.values) <= idx {
			l.values = append(l.values, nil)
		}
		if l.values[idx] != nil {
			return string(m.key), "the line holds this key twice"
		}
		l.values[idx] = m.value
	}
	return "", ""
}

// inferNDJSON is the first pass: every line's values typed, every key a column.
func inferNDJSON(f FileSpec) (*plan, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, openError(err)
	}
	defer file.Close()
	p := &plan{}
	if p.stamp, err = stampOf(file); err != nil {
		return nil, err
	}
	l := &ndjsonLine{index: map[string]int{}}
	add := func(key []byte) int {
		l.index[string(key)] = len(p.cols)
		p.cols = append(p.cols, f.newColumn(string(key)))
		return len(p.cols) - 1
	}
	sc := newLineScanner(file)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if _, problem := l.split(sc.Bytes(), add); problem != "" || !typeNDJSONRow(p, l.values) {
			p.rejected = true
		}
		p.rows++
	}
	if err := sc.Err(); err != nil {
		return nil, lineError(f.Path, p.rows, err)
	}
	if err := f.checkPins(columnNames(p.cols)); err != nil {
		return nil, err
	}
	if len(p.cols) == 0 && p.rows > 0 {
		return nil, configError(fmt.Errorf("%s: no line has a key: %d rows without columns cannot be sent", f.Path, p.rows))
	}
	p.applyPins()
	return p, nil
}

// typeNDJSONRow widens the columns by one line's values; false (and nothing widened) when a value
// does not fit its pinned type, since the row will be dead-lettered.
func typeNDJSONRow(p *plan, values [][]byte) bool {
	for i, v := range values {
		if c := &p.cols[i]; v != nil && c.pin != kindNull && !fitsJSON(c.pin, v) {
			return false
		}
	}
	for i, v := range values {
		if c := &p.cols[i]; v != nil && c.pin == kindNull {
			c.see(valueKind(v), p.rows, kindJSON)
		}
	}
	return true
}

func columnNames(cols []column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

func lineError(path string, rows int64, err error) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return sourceerr.Config(fmt.Errorf("%s: a line after row %d is longer than %d MiB", path, rows, maxLine>>20))
	}
	return sourceerr.Retryable(fmt.Errorf("reading %s after row %d: %w", path, rows, err))
}

// ndjsonRows is the second pass.
type ndjsonRows struct {
	textRows
	sc   *bufio.Scanner
	line ndjsonLine
}

func openNDJSON(f FileSpec, p *plan, sc *arrow.Schema, batch int) (*ndjsonRows, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, openError(err)
	}
	r := &ndjsonRows{textRows: newTextRows(f, file, p, sc, batch), sc: newLineScanner(file),
		line: ndjsonLine{index: map[string]int{}, values: make([][]byte, len(p.cols))}}
	for i, c := range p.cols {
		r.line.index[c.name] = i
	}
	if err := checkStamp(file, p); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Next builds the next record; blank lines are no rows.
func (r *ndjsonRows) Next() bool {
	if !r.startBatch() {
		return false
	}
	for n := 0; n < r.batch; {
		if !r.sc.Scan() {
			r.err = r.finish()
			break
		}
		if len(bytes.TrimSpace(r.sc.Bytes())) == 0 {
			continue
		}
		if r.err = r.row1(r.sc.Bytes()); r.err != nil {
			return false
		}
		n++
	}
	return r.endBatch()
}

func (r *ndjsonRows) row1(line []byte) error {
	defer func() { r.row++ }()
	col, problem := r.line.split(line, func([]byte) int { return -1 })
	if problem == "" {
		col, problem = r.pinProblem()
	}
	if problem == errChanged.Error() {
		return sourceerr.Retryable(fmt.Errorf("%s row %d: %w", r.path, r.row, errChanged))
	}
	if problem != "" {
		return r.rb.reject(col, problem)
	}
	for i := range r.rb.cells {
		c := &r.rb.cells[i]
		if v := r.line.values[i]; v == nil {
			c.null()
		} else if !c.json(v) {
			return sourceerr.Retryable(fmt.Errorf("%s row %d, column %q: %w", r.path, r.row, r.p.cols[i].name, errChanged))
		}
	}
	r.rb.accept()
	return nil
}

func (r *ndjsonRows) pinProblem() (string, string) {
	for i, v := range r.line.values {
		if c := &r.p.cols[i]; v != nil && c.pin != kindNull && !fitsJSON(c.pin, v) {
			return c.name, c.pinReason()
		}
	}
	return "", ""
}

// finish checks the scanner's end, then the file (textRows.finish).
func (r *ndjsonRows) finish() error {
	if err := r.sc.Err(); err != nil {
		return lineError(r.path, r.row, err)
	}
	return r.textRows.finish()
}

// json appends one raw JSON value as the column's kind.
func (c *cellBuilder) json(raw []byte) bool {
	if raw[0] == 'n' {
		c.null()
		return true
	}
	switch c.kind {
	case kindJSON:
		c.b.(*types.JSONBuilder).AppendBytes(raw)
		return true
	case kindStrings:
		return raw[0] == '[' && c.stringList(raw)
	case kindBool:
		if raw[0] != 't' && raw[0] != 'f' {
			return false
		}
		c.b.(*array.BooleanBuilder).Append(raw[0] == 't')
		return true
	case kindString:
		if raw[0] != '"' && raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return false // a pinned string column takes strings and numbers (as written)
		}
	}
	if raw[0] == '"' {
		return c.text(string(unquote(raw)))
	}
	return c.text(string(raw))
}

func (c *cellBuilder) stringList(raw []byte) bool {
	lb := c.b.(*array.ListBuilder)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	lb.Append(true)
	return eachElement(raw, func(e []byte) bool {
		switch e[0] {
		case 'n':
			vb.AppendNull()
		case '"':
			vb.BinaryBuilder.Append(unquote(e))
		default:
			return false
		}
		return true
	})
}
