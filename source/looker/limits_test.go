package looker

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const limitsHeader = `{"fields":{"dimensions":[{"name":"u.id","type":"string","tags":["braze_id"]}]},"data":[`

// endless is head then body repeated for n bytes in total, then tail: a document generated as it is
// read, so the test itself holds almost nothing. read counts the bytes the decoder pulled.
type endless struct {
	head, body, tail []byte
	n, read, off     int
}

func (e *endless) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		k := copy(p, e.head)
		e.head = e.head[k:]
		e.read += k
		return k, nil
	}
	if e.n <= 0 {
		if len(e.tail) == 0 {
			return 0, io.EOF
		}
		k := copy(p, e.tail)
		e.tail = e.tail[k:]
		e.read += k
		return k, nil
	}
	k := 0
	for k < len(p) && e.n > 0 {
		c := copy(p[k:min(len(p), k+e.n)], e.body[e.off:])
		e.off = (e.off + c) % len(e.body)
		k += c
		e.n -= c
	}
	e.read += k
	return k, nil
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Whitespace between values is dropped as it is read: 64 MiB of it costs no more than a buffer,
// with or without limits (before, the buffer doubled to hold it all).
func TestWhitespaceIsNotHeld(t *testing.T) {
	for _, limited := range []bool{false, true} {
		doc := &endless{head: []byte(limitsHeader + `{"u.id":{"value":"a"}}`), body: []byte(" \n\t "), n: 64 << 20,
			tail: []byte(`,{"u.id":{"value":"b"}}]}`)}
		var rows int
		h := Handler{OnRow: func(Row) error { rows++; return nil }}
		var err error
		alloc := allocated(func() {
			if limited {
				err = DecodeJSONDetailLimited(doc, h, DecodeLimits{MaxRowBytes: 1 << 20, MaxSectionBytes: 1 << 20})
			} else {
				err = DecodeJSONDetail(doc, h)
			}
		})
		require.NoError(t, err)
		assert.Equal(t, 2, rows)
		assert.Less(t, alloc, uint64(4<<20), "limited=%v: allocated %d bytes for 64 MiB of whitespace", limited, alloc)
	}
}

func TestLimitsEndOversizedValues(t *testing.T) {
	const limit = 256 << 10
	lim := DecodeLimits{MaxRowBytes: limit, MaxSectionBytes: limit, MaxBufferedRows: 3}
	cases := map[string]struct {
		doc  *endless
		what string
	}{
		"endless string in a row": {&endless{head: []byte(limitsHeader + `{"u.id":{"value":"`), body: []byte("a"), n: 1 << 30}, LimitRow},
		"endless fields":          {&endless{head: []byte(`{"fields":{"dimensions":[`), body: []byte(`{"name":"u.x","tags":[]},`), n: 1 << 30}, LimitSection},
		"endless sql string":      {&endless{head: []byte(`{"sql":"`), body: []byte("SELECT "), n: 1 << 30}, LimitSection},
		"endless key":             {&endless{head: []byte(`{"`), body: []byte("k"), n: 1 << 30}, LimitSection},
		"rows before fields":      {&endless{head: []byte(`{"data":[`), body: []byte(`{"u.id":{"value":"a"}},`), n: 1 << 30}, LimitBuffered},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := DecodeJSONDetailLimited(c.doc, Handler{OnRow: func(Row) error { return nil }}, lim)
			var le *LimitError
			require.True(t, errors.As(err, &le), "%v", err)
			assert.Equal(t, c.what, le.What)
			// The decoder stopped near the limit, not at the end of the gigabyte on offer.
			assert.Less(t, c.doc.read, 4*limit+streamBuffer, "read %d bytes", c.doc.read)
			assert.NotContains(t, err.Error(), "aaaa", "no data in errors")
		})
	}
}

// Within the limits a document decodes exactly as without them.
func TestLimitsKeepValidDocuments(t *testing.T) {
	row := `{"u.id":{"value":"` + strings.Repeat("x", 1000) + `"}}`
	doc := limitsHeader + row + "," + row + "]}"
	var got, want []Row
	require.NoError(t, DecodeJSONDetail(strings.NewReader(doc), Handler{OnRow: func(r Row) error { want = append(want, r); return nil }}))
	require.NoError(t, DecodeJSONDetailLimited(bytes.NewReader([]byte(doc)), Handler{OnRow: func(r Row) error { got = append(got, r); return nil }},
		DecodeLimits{MaxRowBytes: len(row) + 1, MaxSectionBytes: 200, MaxBufferedRows: 1}))
	assert.Equal(t, want, got)
}
