package destination

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchBuildsValidBodies: objects added, replaced and split always assemble to the JSON body
// Braze expects, and size tracks the finished body exactly.
func TestBatchBuildsValidBodies(t *testing.T) {
	b := newBatch("t", nil)
	assert.Equal(t, `{"attributes":[]}`, string(b.finish()))
	b = newBatch("t", nil)
	b.add(keyOf("a"), []byte(`{"external_id":"a","x":1}`), 0, nil, 1, nil, false)
	b.add(keyOf("b"), []byte(`{"external_id":"b","x":2}`), 1, nil, 1, nil, false)
	b.replace(0, []byte(`{"external_id":"a","x":3,"y":"long"}`), 2, 2, nil, false)
	b.add(keyOf("c"), []byte(`{"external_id":"c"}`), 3, nil, 0, nil, false)
	size := b.size
	body := b.finish()
	assert.Equal(t, `{"attributes":[{"external_id":"a","x":3,"y":"long"},{"external_id":"b","x":2},{"external_id":"c"}]}`, string(body))
	assert.Equal(t, len(body), size)
	assert.Equal(t, int64(4), b.rowCount())
	assert.Equal(t, []int64{2}, b.entries[0].more)
	assertFound(t, b, "a", 0)
	assertFound(t, b, "z", -1)
	assert.Equal(t, "a", b.user(0))
	assert.Equal(t, "c", b.user(2))
}

// keyOf is the key of user u of kind external_id.
func keyOf(u string) userKey { return makeUserKey(nil, "external_id", []byte(u)) }

// assertFound checks that find places user u at index i (-1: absent).
func assertFound(t *testing.T, b *batch, u string, i int) {
	t.Helper()
	got, same := b.find(keyOf(u))
	assert.Equal(t, i, got, "index of %q", u)
	assert.Equal(t, i >= 0, same, "%q found as itself", u)
	assert.Equal(t, i >= 0, b.holds(keyOf(u)))
}

// TestBatchHashCollision: a user whose key hash equals another's is found as a collision, never as
// the same user (so the writer never merges the two), and the in-flight set treats the two as one.
func TestBatchHashCollision(t *testing.T) {
	b := newBatch("t", nil)
	a := keyOf("a")
	b.add(a, []byte(`{"external_id":"a"}`), 0, nil, 0, nil, false)
	impostor := keyOf("z")
	impostor.hash = a.hash
	i, same := b.find(impostor)
	assert.Equal(t, 0, i)
	assert.False(t, same, "a collision is not the same user")
	assert.True(t, b.holds(impostor))

	f := newInflight()
	rest, _ := f.claim(b)
	assert.Nil(t, rest)
	other := newBatch("t", nil)
	other.add(impostor, []byte(`{"external_id":"z"}`), 1, nil, 0, nil, false)
	rest, changed := f.claim(other)
	require.NotNil(t, rest)
	assert.Zero(t, other.len(), "the colliding user waits for the first one's request")
	f.release(b)
	<-changed
	rest, _ = f.claim(rest)
	assert.Nil(t, rest)
}

// TestBatchSplit: busy objects move, in order, to a new batch; both stay indexed and sized.
func TestBatchSplit(t *testing.T) {
	b := newBatch("t", nil)
	for i, k := range []string{"a", "b", "c", "d"} {
		b.add(keyOf(k), []byte(`{"external_id":"`+k+`"}`), int64(i), nil, 0, nil, false)
	}
	rest := b.split(func(h uint64) bool { return h == keyOf("b").hash || h == keyOf("d").hash })
	require.NotNil(t, rest)
	assert.Equal(t, `{"attributes":[{"external_id":"a"},{"external_id":"c"}]}`, string(b.finish()))
	assert.Equal(t, len(b.body), b.size)
	assertFound(t, b, "c", 1)
	assertFound(t, b, "b", -1)
	assertFound(t, rest, "d", 1)
	assert.Equal(t, "d", rest.user(1))
	size := rest.size
	assert.Equal(t, `{"attributes":[{"external_id":"b"},{"external_id":"d"}]}`, string(rest.finish()))
	assert.Equal(t, len(rest.body), size)
	assert.Equal(t, int64(3), rest.entries[1].row)
	assert.Nil(t, newBatchWith(t, "x").split(func(uint64) bool { return false }))
}

func newBatchWith(t *testing.T, keys ...string) *batch {
	t.Helper()
	b := newBatch("t", nil)
	for i, k := range keys {
		b.add(keyOf(k), []byte(`{"external_id":"`+k+`"}`), int64(i), nil, 0, nil, false)
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

// TestInflightClaimAndRelease: a claimed user cannot be claimed again until released, and only the
// release of a user the waiter waits for wakes it.
func TestInflightClaimAndRelease(t *testing.T) {
	f := newInflight()
	b1 := newBatchWith(t, "a", "b")
	rest, _ := f.claim(b1)
	assert.Nil(t, rest)
	b2 := newBatchWith(t, "b", "c")
	rest, changed := f.claim(b2)
	require.NotNil(t, rest)
	assert.Nil(t, changed, "something was claimed: nothing to wait for")
	assert.Equal(t, "c", b2.user(0))
	assert.Equal(t, "b", rest.user(0))
	b3 := newBatchWith(t, "a")
	rest, changed = f.claim(b3)
	assert.Zero(t, b3.len(), "every user busy: nothing claimed")
	require.NotNil(t, changed)
	f.release(b2) // c: not awaited
	select {
	case <-changed:
		t.Fatal("woken before a user it waits for was released")
	default:
	}
	f.release(b1)
	<-changed
	rest2, _ := f.claim(rest)
	assert.Nil(t, rest2)
	assert.Equal(t, 1, rest.len())
}

// TestObjectErrorsKeepEveryReason: an object Braze lists twice (two errors at one index) fails with
// both types, in Braze's order and once each; other arrays and out-of-range indexes fail nothing;
// every error is counted.
func TestObjectErrorsKeepEveryReason(t *testing.T) {
	b := newBatch("t", nil)
	defer b.release()
	for i := range 3 {
		b.addEntry(entry{hash: uint64(i + 1)}, []byte(fmt.Sprint("k", i)), []byte(fmt.Sprintf(`{"external_id":"k%d"}`, i)), nil)
	}
	failed, minor := objectErrors(b, []brazeapi.ObjectError{
		{Type: "injected minor error", InputArray: "attributes", Index: 1},
		{Type: "provided external_id is blacklisted and disallowed", InputArray: "attributes", Index: 1},
		{Type: "injected minor error", InputArray: "attributes", Index: 1},
		{Type: "bad event", InputArray: "events", Index: 0},
		{Type: "out of range", InputArray: "attributes", Index: 7},
	})
	want := []string{"", "injected minor error; provided external_id is blacklisted and disallowed", ""}
	if !slices.Equal(failed, want) {
		t.Errorf("failed = %q, want %q", failed, want)
	}
	if minor["injected minor error"] != 2 || minor["bad event"] != 1 || minor["out of range"] != 1 || len(minor) != 4 {
		t.Errorf("minor = %v", minor)
	}
}
