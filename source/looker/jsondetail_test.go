package looker

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const detailFields = `"fields":{"dimensions":[{"name":"users.external_id","type":"string","tags":["braze_id"]}],"measures":[{"name":"sessions.count","type":"count","tags":[]}],"table_calculations":[],"pivots":[]}`

func collect(t *testing.T, doc string) (*Header, []Row) {
	t.Helper()
	var h *Header
	var rows []Row
	err := DecodeJSONDetail(strings.NewReader(doc), Handler{
		OnHeader: func(got *Header) error {
			require.Empty(t, rows, "header must come before rows")
			h = got
			return nil
		},
		OnRow: func(r Row) error { rows = append(rows, r); return nil },
	})
	require.NoError(t, err)
	return h, rows
}

func TestDecodeFieldsBeforeData(t *testing.T) {
	doc := `{"status":"complete","sql":"SELECT 1",` + detailFields + `,"timezone":"America/New_York","data":[` +
		`{"users.external_id":{"value":"u_1","rendered":"u_1","links":[]},"sessions.count":{"value":3}},` +
		`{"users.external_id":{"value":"u_2"},"sessions.count":{"value":4}}],"drill_menu_build_time":1}`
	h, rows := collect(t, doc)
	require.NotNil(t, h)
	assert.Equal(t, []string{"braze_id"}, h.Fields.Dimensions[0].Tags)
	assert.Equal(t, "America/New_York", h.Timezone)
	require.Len(t, rows, 2)
	v, err := cellValue(rows[1]["users.external_id"], "")
	require.NoError(t, err)
	assert.JSONEq(t, `"u_2"`, string(v))
}

func TestDecodeDataBeforeFieldsBuffers(t *testing.T) {
	doc := `{"data":[{"users.external_id":{"value":"u_1"}},{"users.external_id":{"value":"u_2"}}],` + detailFields + `}`
	h, rows := collect(t, doc)
	require.NotNil(t, h)
	assert.Len(t, rows, 2)
}

func TestDecodeWaitsForPivotsBeforeStreaming(t *testing.T) {
	fields := `"fields":{"dimensions":[{"name":"users.external_id","tags":["braze_id"]}],"measures":[{"name":"sessions.count","type":"count"}],"pivots":[{"name":"users.platform","tags":[]}]}`
	doc := `{` + fields + `,"data":[{"users.external_id":{"value":"u_1"},"sessions.count":{"users.platform=ios":{"value":2}}}],"pivots":[{"key":"users.platform=ios","data":{"users.platform":"ios"}}]}`
	h, rows := collect(t, doc)
	require.Len(t, h.Pivots, 1, "header must include pivots that came after data")
	assert.Len(t, rows, 1)
}

func TestDecodeQueryErrors(t *testing.T) {
	err := DecodeJSONDetail(strings.NewReader(`{"errors":[{"message":"SQL error: column X"}]}`), Handler{OnRow: func(Row) error { return nil }})
	var qe *QueryError
	require.ErrorAs(t, err, &qe)
	assert.Contains(t, qe.Error(), "column X")
}

func TestDecodeRejectsMissingFields(t *testing.T) {
	err := DecodeJSONDetail(strings.NewReader(`{"data":[]}`), Handler{OnRow: func(Row) error { return nil }})
	require.Error(t, err)
}

func TestDecodeRowErrorStopsStream(t *testing.T) {
	doc := `{` + detailFields + `,"data":[{"users.external_id":{"value":"u_1"}},{"users.external_id":{"value":"u_2"}}]}`
	boom := errors.New("boom")
	calls := 0
	err := DecodeJSONDetail(strings.NewReader(doc), Handler{OnRow: func(Row) error { calls++; return boom }})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 1, calls)
}

// TestDecodeStreams proves rows are handed over while the document is still
// being written: the writer only finishes after the first row was seen.
func TestDecodeStreams(t *testing.T) {
	pr, pw := io.Pipe()
	firstRow := make(chan struct{})
	go func() {
		fmt.Fprint(pw, `{`+detailFields+`,"data":[{"users.external_id":{"value":"u_0"}}`)
		<-firstRow
		for i := 1; i < 1000; i++ {
			fmt.Fprintf(pw, `,{"users.external_id":{"value":"u_%d"}}`, i)
		}
		fmt.Fprint(pw, `]}`)
		pw.Close()
	}()
	n := 0
	err := DecodeJSONDetail(pr, Handler{OnRow: func(Row) error {
		if n == 0 {
			close(firstRow)
		}
		n++
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, 1000, n)
}
