package looker

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hand-written fast paths must give exactly what encoding/json gave:
// each fuzz target runs the fast path and the reference side by side.

var cellSeeds = []string{
	`{"value":3,"rendered":"3","links":[]}`, `{"value":null}`, `{"value":"Zoë"}`, `{"rendered":"x"}`, `{}`,
	`{"Value":1}`, `{"VALUE":1,"value":2}`, `{"value":1,"value":2}`, `{"val\u0075e":7}`, `{"k=a":{"value":1},"k=b":{"value":2}}`,
	`{"k=a":{"value":1}}`, `"bare"`, `[1]`, `null`, ` null`, `{"value":1} x`, `{"value":1,}`, `{"value":[1, {"a":"}"}]}`,
	`{"value":01}`, `{"value":"a\"b"}`, `{"value":-1.5e+3}`, `{"value":tru}`, "{\"value\":\"\xff\"}", "{\"k=\xff\":{\"value\":1}}",
	`{ "value" : 1 }`, `{"value":1`, `{"a":{"b":[[[]]]},"value":{}}`, `{"ſ":1,"value":2}`,
}

func FuzzCellValue(f *testing.F) {
	for _, s := range cellSeeds {
		f.Add(s, "")
		f.Add(s, "k=b")
	}
	f.Add(`{"k=\u00e9":{"value":1}}`, "k=é")
	f.Add("{\"k=\xff\":{\"value\":1}}", "k=\uFFFD")
	f.Fuzz(func(t *testing.T, raw, pivotKey string) {
		got, gotErr := cellValue(json.RawMessage(raw), pivotKey)
		want, wantErr := cellValueSlow(json.RawMessage(raw), pivotKey)
		require.Equal(t, wantErr, gotErr, "error for %q pivot %q", raw, pivotKey)
		require.Equal(t, want == nil, got == nil, "nil-ness for %q pivot %q", raw, pivotKey)
		require.Equal(t, string(want), string(got), "value for %q pivot %q", raw, pivotKey)
	})
}

func FuzzTextOf(f *testing.F) {
	for _, s := range []string{`"Zoë"`, `"a\"b"`, `"\u00e9"`, "\"\xff\"", `"`, `""`, `"a"b"`, `"a" `, `12`, `true`, "\"\t\"", `{"a":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		require.Equal(t, textOfSlow(json.RawMessage(v)), textOf(json.RawMessage(v)), "%q", v)
	})
}

var fuzzTypes = []arrow.DataType{
	arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64,
	arrow.FixedWidthTypes.Boolean, arrow.FixedWidthTypes.Date32, timestampType,
}

func FuzzAppendValue(f *testing.F) {
	for _, s := range []string{`"Zoë"`, `42`, `42.0`, `"7"`, `1.5`, `"Yes"`, `"yeſ"`, `"TRUE"`, `"İ"`, `"2021-06-10"`, `"2021-02-29"`,
		`"2020-02-29"`, `"2021-13-01"`, `"0000-01-01"`, `"2021-06-10 12:34:56"`, `"2021-06-10 24:00:00"`, `"2021-06-10 12:60:00"`,
		`"2021-06-10 12:34"`, `"2021-06-10T12:34:56Z"`, `"2021-06-10 12:34:56.5"`, `"2021-03-14 02:30:00"`, `"2021-11-07 01:30:00"`,
		`"2021-06-10 1:34:56"`, `"-001-06-10"`, `null`, `"a\"b"`} {
		for k := range fuzzTypes {
			f.Add(s, uint8(k))
		}
	}
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, v string, kind uint8) {
		typ := fuzzTypes[int(kind)%len(fuzzTypes)]
		got, gotErr := appendOne(typ, v, ny, appendValue)
		want, wantErr := appendOne(typ, v, ny, appendValueRef)
		require.Equal(t, wantErr, gotErr, "%s %q", typ, v)
		require.Equal(t, want, got, "%s %q", typ, v)
	})
}

// appendOne appends v with fn and returns the array's only value as text.
func appendOne(typ arrow.DataType, v string, loc *time.Location, fn func(array.Builder, json.RawMessage, *time.Location) error) (string, error) {
	b := array.NewBuilder(memory.DefaultAllocator, typ)
	defer b.Release()
	if err := fn(b, json.RawMessage(v), loc); err != nil {
		return "", err
	}
	arr := b.NewArray()
	defer arr.Release()
	if ts, ok := arr.(*array.Timestamp); ok && ts.IsValid(0) {
		return time.UnixMicro(int64(ts.Value(0))).UTC().Format(time.RFC3339Nano), nil
	}
	return arr.ValueStr(0), nil
}

// decoded is everything a decoder reported, in order.
type decoded struct {
	Header *Header
	Rows   []Row
	Failed bool
}

func decodeWith(fn func(r io.Reader, h Handler) error, doc []byte, chunk int) decoded {
	var d decoded
	err := fn(&chunkReader{b: doc, n: chunk}, Handler{
		OnHeader: func(h *Header) error { d.Header = h; return nil },
		OnRow:    func(r Row) error { d.Rows = append(d.Rows, r); return nil },
	})
	d.Failed = err != nil
	return d
}

// chunkReader hands out at most n bytes per Read, to exercise the stream
// reader's refills at every position.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.n, len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

var docSeeds = []string{
	`{"status":"complete",` + detailFields + `,"timezone":"America/New_York","data":[{"users.external_id":{"value":"u_1","rendered":"u_1","links":[]},"sessions.count":{"value":3}},{"users.external_id":{"value":"u_2"},"sessions.count":{"value":4}}],"drill_menu_build_time":1}`,
	`{"data":[{"users.external_id":{"value":"u_1"}},null,{}],` + detailFields + `}`,
	`{"fields":{"dimensions":[{"name":"a"}],"pivots":[{"name":"p"}]},"data":[{"a":{"p=1":{"value":2}}}],"pivots":[{"key":"p=1","data":{"p":1.50}}]}`,
	`{"errors":[{"message":"SQL error"}]}`, `{"data":[]}`, `{}`, `[]`, ``, `{"fields":{}, "data":[1]}`, `{"fields":{},"data":[{"a":1},]}`,
	`{"fields":{},"d\u0061ta":[{"\u00e9":1,"a":2,"a":3}]}`, `{"fields":{},"data":[{"a":1}]} trailing`, `{"fields":{},"timezone":null,"data":[ { "a" : [ 1 , 2 ] } ]}`,
	`{"fields":{},"data":[{"a":1}],"data":[]}`, `{"fields":{},"data":[{"a":1e}]}`, "{\"fields\":{},\"data\":[{\"\xff\":1}]}",
}

func FuzzDecodeJSONDetail(f *testing.F) {
	for _, s := range docSeeds {
		f.Add(s, uint8(7))
	}
	f.Add(string(benchDetail(3)), uint8(13))
	f.Fuzz(func(t *testing.T, doc string, chunk uint8) {
		n := int(chunk)%64 + 1
		got := decodeWith(DecodeJSONDetail, []byte(doc), n)
		want := decodeWith(decodeJSONDetailRef, []byte(doc), n)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("doc %q (reads of %d bytes):\n got %+v\nwant %+v", doc, n, got, want)
		}
	})
}

// TestDecodeMatchesReference runs both decoders over a large generated body
// read in uneven pieces, so rows straddle every buffer refill.
func TestDecodeMatchesReference(t *testing.T) {
	doc := benchDetail(5000)
	for _, n := range []int{1 << 20, 4093, 1} {
		got := decodeWith(DecodeJSONDetail, doc, n)
		want := decodeWith(decodeJSONDetailRef, doc, n)
		require.False(t, got.Failed)
		require.Len(t, got.Rows, 5000)
		require.True(t, reflect.DeepEqual(want, got), "reads of %d bytes", n)
	}
}

// TestDecodeRowsDoNotAlias proves a row kept by the handler is not
// overwritten when the stream buffer is reused for later rows.
func TestDecodeRowsDoNotAlias(t *testing.T) {
	var kept []Row
	err := DecodeJSONDetail(&chunkReader{b: benchDetail(2000), n: 997}, Handler{OnRow: func(r Row) error {
		kept = append(kept, r)
		return nil
	}})
	require.NoError(t, err)
	v, err := cellValue(kept[0]["users.external_id"], "")
	require.NoError(t, err)
	assert.Equal(t, `"u_0000000"`, string(v))
	v, err = cellValue(kept[1999]["users.external_id"], "")
	require.NoError(t, err)
	assert.Equal(t, `"u_0001999"`, string(v))
}

// TestDecodeReadErrorIsWrapped: a failing body (e.g. a dropped connection)
// surfaces as its own error, not as malformed JSON.
func TestDecodeReadErrorIsWrapped(t *testing.T) {
	boom := errors.New("connection reset")
	doc := `{` + detailFields + `,"data":[{"users.external_id":{"value":"u_1"}},`
	err := DecodeJSONDetail(io.MultiReader(strings.NewReader(doc), errReader{boom}), Handler{OnRow: func(Row) error { return nil }})
	require.ErrorIs(t, err, boom)
	err = DecodeJSONDetail(strings.NewReader(doc), Handler{OnRow: func(Row) error { return nil }})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestScanValueDepth: nesting is limited like encoding/json (10,000 levels).
func TestScanValueDepth(t *testing.T) {
	ok := strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting)
	end, err := scanValue([]byte(ok), 0, true, maxNesting)
	require.NoError(t, err)
	assert.Equal(t, len(ok), end)
	assert.True(t, json.Valid([]byte(ok)))
	deep := "[" + ok + "]"
	_, err = scanValue([]byte(deep), 0, true, maxNesting)
	require.Error(t, err)
	assert.False(t, json.Valid([]byte(deep)))
	assert.False(t, bytes.Contains([]byte(err.Error()), []byte("[[")), "errors never quote input")
}
