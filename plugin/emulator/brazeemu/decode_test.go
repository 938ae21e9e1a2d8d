package brazeemu

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// decodeSeeds are bodies the fast parser must decode exactly as encoding/json does, or
// hand to it.
var decodeSeeds = []string{
	`{"attributes":[{"external_id":"u1","score":12,"ltv":1.5e3,"vip":true,"gone":null,"tags":{"add":["a","b"]}}]}`,
	`{"attributes":[],"events":null}`,
	` {"events":[{"external_id":"u","name":"e","time":"2024-01-01T00:00:00Z","properties":{"n":[1,2,{"x":-0.5E-3}]}}]} trailing`,
	`{"purchases":[{"external_id":"u","product_id":"p","price":1,"currency":"USD"}],"other":{"a":[true,false,null]}}`,
	`{"attributes":[{"external_id":"\u00e9\n\"\\\/\t","name":"Chloé 日本"}]}`,
	`{"attributes":[{"external_id":"\ud83d\ude00"}]}`,
	`{"Attributes":[{"external_id":"u"}]}`,
	`{"attributes":[{"external_id":"u"}],"attributes":[{"external_id":"v"}]}`,
	`{"attributes":{"external_id":"u"}}`,
	`{"attributes":[01]}`,
	`{"attributes":[1.]}`,
	`{"attributes":[-]}`,
	`{"attributes":[1e]}`,
	`{"attributes":[tru]}`,
	`{"attributes":["a` + "\x01" + `"]}`,
	"{\"attributes\":[\"\xff\"]}",
	`{"attributes":[{"a":1,"a":2}]}`,
	`{"attributes":[{"a":1,}]}`,
	`{"attributes":[1,]}`,
	`[]`,
	`null`,
	``,
	`{`,
	`{}`,
	`{"x":1}`,
	`{"attributes":[{"external_id":"u"}]`,
}

func decodeStd(body []byte) (trackRequest, error) {
	var req trackRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := dec.Decode(&req)
	return req, err
}

// checkDecode fails unless decodeTrack gives encoding/json's outcome for body, and the
// fast path, when it answers, gives encoding/json's values.
func checkDecode(t *testing.T, body []byte) {
	want, wantErr := decodeStd(body)
	var got trackRequest
	gotErr := decodeTrack(body, &got)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json says %v", body, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", body, got, want)
	}
	var fast trackRequest
	if fastDecodeTrack(body, &fast) {
		if wantErr != nil {
			t.Fatalf("%q: fast path accepted a body encoding/json rejects: %v", body, wantErr)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Fatalf("%q: fast path\n got %#v\nwant %#v", body, fast, want)
		}
	}
}

func TestDecodeTrackMatchesEncodingJSON(t *testing.T) {
	for _, s := range decodeSeeds {
		checkDecode(t, []byte(s))
	}
	for _, b := range benchBodies(4) {
		var fast trackRequest
		if !fastDecodeTrack(b, &fast) {
			t.Fatalf("fast path gave up on a plain body: %s", b)
		}
		checkDecode(t, b)
	}
}

func FuzzDecodeTrack(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkDecode)
}
