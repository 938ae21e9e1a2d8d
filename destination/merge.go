package destination

import (
	"bytes"
	"errors"
)

// Merging rows of the same user.
//
// When a user's row arrives while an object for that user is still being built (the open request
// of its table: the merge window, at most batch_size objects), the row is merged into that object
// instead of becoming a second object, and counted in report.RowsMerged once delivered.
//
// The rule: the merged object is exactly what Braze would store had the rows been sent one after
// another, in row order. So, per attribute, the last row wins: plain values, whole arrays and nested
// objects (which /users/track replaces, it never merges them without _merge_objects) take the later
// row's value; an attribute the later row does not carry (a null under nulls: skip) keeps the earlier
// value; a null under nulls: unset wins like any value. The export flag ({"add": [...]}) is the same
// on every row, and adding it once or twice is the same.
//
// Arrays are replaced, not united: a union would make the result depend on where request
// boundaries fall (two rows in one request would union, the same rows in two requests would not),
// while "last row wins" gives the same profile whichever way the rows are cut into requests.
// Rows of one user outside the merge window are sent in later requests, in row order, and never
// while an earlier request for that user is in flight (see inflight), so the same rule holds across
// the whole run.

// member is one top-level member of a JSON object: its raw name (quoted) and raw value.
type member struct{ name, value []byte }

var errBadObject = errors.New("not a JSON object")

// objectMembers splits a JSON object into its top-level members. The objects are built by the
// encoder, so this scanner handles only what valid JSON needs: strings with escapes and nesting.
func objectMembers(obj []byte, dst []member) ([]member, error) {
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, errBadObject
	}
	i, end := 1, len(obj)-1
	for {
		i = skipSpace(obj, i, end)
		if i >= end {
			return dst, nil
		}
		if obj[i] != '"' {
			return nil, errBadObject
		}
		nameEnd := stringEnd(obj, i, end)
		if nameEnd < 0 {
			return nil, errBadObject
		}
		j := skipSpace(obj, nameEnd, end)
		if j >= end || obj[j] != ':' {
			return nil, errBadObject
		}
		j = skipSpace(obj, j+1, end)
		valEnd := valueEnd(obj, j, end)
		if valEnd < 0 || valEnd == j {
			return nil, errBadObject
		}
		dst = append(dst, member{name: obj[i:nameEnd], value: bytes.TrimSpace(obj[j:valEnd])})
		i = skipSpace(obj, valEnd, end)
		if i < end {
			if obj[i] != ',' {
				return nil, errBadObject
			}
			i++
		}
	}
}

func skipSpace(b []byte, i, end int) int {
	for i < end && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"', or -1.
func stringEnd(b []byte, i, end int) int {
	for j := i + 1; j < end; j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the index just past the value starting at i: the next top-level ',' or end.
func valueEnd(b []byte, i, end int) int {
	depth := 0
	for j := i; j < end; j++ {
		switch b[j] {
		case '"':
			if j = stringEnd(b, j, end); j < 0 {
				return -1
			}
			j--
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return -1
			}
		case ',':
			if depth == 0 {
				return j
			}
		}
	}
	if depth != 0 {
		return -1
	}
	return end
}

// mergeObject merges later into earlier under the rule above and appends the result to dst. It
// returns the number of members of the result.
func mergeObject(dst, earlier, later []byte) ([]byte, int, error) {
	var buf [32]member
	a, err := objectMembers(earlier, buf[:0])
	if err != nil {
		return dst, 0, err
	}
	n := len(a)
	b, err := objectMembers(later, buf[n:n])
	if err != nil {
		return dst, 0, err
	}
	out := a[:n:n]
	for _, m := range b {
		replaced := false
		for k := range out {
			if bytes.Equal(out[k].name, m.name) {
				out[k].value = m.value
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, m)
		}
	}
	dst = append(dst, '{')
	for k, m := range out {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m.name...)
		dst = append(dst, ':')
		dst = append(dst, m.value...)
	}
	return append(dst, '}'), len(out), nil
}
