package destination

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchBuildsValidBodies: objects added, replaced and split always assemble to the JSON body
// Braze expects, and size tracks the finished body exactly.
func TestBatchBuildsValidBodies(t *testing.T) {
	b := newBatch("t")
	assert.Equal(t, `{"attributes":[]}`, string(b.finish()))
	b = newBatch("t")
	b.add("k\x00a", []byte(`{"external_id":"a","x":1}`), 0, nil, 1)
	b.add("k\x00b", []byte(`{"external_id":"b","x":2}`), 1, nil, 1)
	b.replace(0, []byte(`{"external_id":"a","x":3,"y":"long"}`), 2, 2)
	b.add("k\x00c", []byte(`{"external_id":"c"}`), 3, nil, 0)
	size := b.size
	body := b.finish()
	assert.Equal(t, `{"attributes":[{"external_id":"a","x":3,"y":"long"},{"external_id":"b","x":2},{"external_id":"c"}]}`, string(body))
	assert.Equal(t, len(body), size)
	assert.Equal(t, int64(4), b.rowCount())
	assert.Equal(t, []int64{2}, b.entries[0].more)
	assert.Equal(t, 0, b.find("k\x00a"))
	assert.Equal(t, -1, b.find("k\x00z"))
	assert.Equal(t, "a", b.entries[0].user())
}

// TestBatchSplit: busy objects move, in order, to a new batch; both stay indexed and sized.
func TestBatchSplit(t *testing.T) {
	b := newBatch("t")
	for i, k := range []string{"a", "b", "c", "d"} {
		b.add(k, []byte(`{"external_id":"`+k+`"}`), int64(i), nil, 0)
	}
	rest := b.split(func(k string) bool { return k == "b" || k == "d" })
	require.NotNil(t, rest)
	assert.Equal(t, `{"attributes":[{"external_id":"a"},{"external_id":"c"}]}`, string(b.finish()))
	assert.Equal(t, len(b.body), b.size)
	assert.Equal(t, 1, b.find("c"))
	assert.Equal(t, -1, b.find("b"))
	size := rest.size
	assert.Equal(t, `{"attributes":[{"external_id":"b"},{"external_id":"d"}]}`, string(rest.finish()))
	assert.Equal(t, len(rest.body), size)
	assert.Equal(t, int64(3), rest.entries[1].row)
	assert.Nil(t, newBatchWith(t, "x").split(func(string) bool { return false }))
}

func newBatchWith(t *testing.T, keys ...string) *batch {
	t.Helper()
	b := newBatch("t")
	for i, k := range keys {
		b.add(k, []byte(`{"external_id":"`+k+`"}`), int64(i), nil, 0)
	}
	return b
}

// TestMergeObject: the later row wins per attribute, arrays and nested objects are replaced whole,
// attributes only the earlier row carries stay, and tricky strings survive the scanner.
func TestMergeObject(t *testing.T) {
	for _, tc := range []struct{ name, a, b, want string }{
		{"later wins", `{"external_id":"u","x":1,"y":2}`, `{"external_id":"u","x":3}`, `{"external_id":"u","x":3,"y":2}`},
		{"new attribute appended", `{"external_id":"u","x":1}`, `{"external_id":"u","z":[1,2]}`, `{"external_id":"u","x":1,"z":[1,2]}`},
		{"array replaced", `{"external_id":"u","z":["a","b"]}`, `{"external_id":"u","z":["c"]}`, `{"external_id":"u","z":["c"]}`},
		{"nested replaced", `{"external_id":"u","n":{"a":1,"b":{"c":2}}}`, `{"external_id":"u","n":{"d":1}}`, `{"external_id":"u","n":{"d":1}}`},
		{"null wins", `{"external_id":"u","x":1}`, `{"external_id":"u","x":null}`, `{"external_id":"u","x":null}`},
		{"escapes and commas in strings", `{"external_id":"u","s":"a,\"}b","t":"x"}`, `{"external_id":"u","t":"{[,]}\\"}`, `{"external_id":"u","s":"a,\"}b","t":"{[,]}\\"}`},
		{"export flag kept once", `{"external_id":"u","_update_existing_only":false,"f":{"add":["L"]}}`, `{"external_id":"u","_update_existing_only":false,"f":{"add":["L"]}}`, `{"external_id":"u","_update_existing_only":false,"f":{"add":["L"]}}`},
		{"alias key", `{"user_alias":{"alias_name":"a","alias_label":"l"},"x":1}`, `{"user_alias":{"alias_name":"a","alias_label":"l"},"x":2}`, `{"user_alias":{"alias_name":"a","alias_label":"l"},"x":2}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := mergeObject(nil, []byte(tc.a), []byte(tc.b))
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
			assert.True(t, json.Valid(got))
			var m map[string]any
			require.NoError(t, json.Unmarshal(got, &m))
			assert.Equal(t, len(m), n)
		})
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":}`, `{"a":1,}x`, `{"a":"unterminated}`, `{"a":[1}`} {
		_, _, err := mergeObject(nil, []byte(bad), []byte(`{"a":1}`))
		assert.Error(t, err, "%q", bad)
	}
}

// TestInflightClaimAndRelease: a claimed user cannot be claimed again until released, and release
// wakes a waiter.
func TestInflightClaimAndRelease(t *testing.T) {
	f := newInflight()
	b1 := newBatchWith(t, "a", "b")
	rest, _ := f.claim(b1)
	assert.Nil(t, rest)
	b2 := newBatchWith(t, "b", "c")
	rest, changed := f.claim(b2)
	require.NotNil(t, rest)
	assert.Equal(t, "c", b2.entries[0].key)
	assert.Equal(t, "b", rest.entries[0].key)
	b3 := newBatchWith(t, "a")
	rest, changed = f.claim(b3)
	assert.Zero(t, b3.len(), "every user busy: nothing claimed")
	select {
	case <-changed:
		t.Fatal("woken before any release")
	default:
	}
	f.release(b1)
	<-changed
	rest2, _ := f.claim(rest)
	assert.Nil(t, rest2)
	assert.Equal(t, 1, rest.len())
}
