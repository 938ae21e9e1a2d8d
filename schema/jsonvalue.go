package schema

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Reasons a CloudQuery JSON value cannot be sent as it is (braze-api.md §2.1): Braze would answer 201
// and silently not store it, so the row is rejected with the reason instead.
const (
	reasonMixedArray  = "JSON array mixes objects with other values, or nests arrays (Braze stores neither)"
	reasonNestedNull  = "JSON object holds a null (Braze drops every nested update of the request)"
	reasonJSONString  = reasonTooLong
	maxJSONValueDepth = 32
)

// checkBrazeJSON checks a raw JSON value against what Braze stores for a custom attribute: a scalar,
// an array of scalars or of objects, or an object whose keys are valid nested keys and whose values
// are not null. It returns "" when the value is acceptable. Only JSON columns pay for this decode.
func checkBrazeJSON(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return reasonInvalidJSON
	}
	return checkTop(v)
}

func checkTop(v any) string {
	switch x := v.(type) {
	case []any:
		return checkArray(x, 0)
	case map[string]any:
		return checkObject(x, 0)
	case string:
		if utf8.RuneCountInString(x) > MaxStringChars {
			return reasonJSONString
		}
	}
	return ""
}

// checkArray: all scalars, or all objects (an array of objects).
func checkArray(arr []any, depth int) string {
	objects := 0
	for _, e := range arr {
		switch x := e.(type) {
		case map[string]any:
			objects++
			if r := checkObject(x, depth+1); r != "" {
				return r
			}
		case []any:
			return reasonMixedArray
		case string:
			if utf8.RuneCountInString(x) > MaxStringChars {
				return reasonJSONString
			}
		case nil:
			return reasonMixedArray
		}
	}
	if objects != 0 && objects != len(arr) {
		return reasonMixedArray
	}
	return ""
}

func checkObject(m map[string]any, depth int) string {
	if depth > maxJSONValueDepth {
		return reasonNestedTooBig
	}
	for k, v := range m {
		if !validNestedKey(k) {
			return reasonNestedKey
		}
		switch x := v.(type) {
		case nil:
			return reasonNestedNull
		case map[string]any:
			if r := checkObject(x, depth+1); r != "" {
				return r
			}
		case []any:
			if r := checkArray(x, depth+1); r != "" {
				return r
			}
		case string:
			if utf8.RuneCountInString(x) > MaxStringChars {
				return reasonJSONString
			}
		}
	}
	return ""
}
