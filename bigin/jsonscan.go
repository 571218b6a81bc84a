package bigin

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The functions in this file read Zoho's answers without decoding them
// into Go values. A page of 100 users is about 100 KB, and the tool-call
// CPU profile showed encoding/json's byte-at-a-time scanner reading it
// three times (validate, decode the top level, skip each value) before the
// records were passed on as raw bytes anyway. Here one tight validating
// pass also records where the top-level members and the elements of array
// members begin and end.

// maxNestingDepth is encoding/json's limit, so that validJSON accepts
// exactly what json.Valid accepts.
const maxNestingDepth = 10000

// validJSON reports whether b is exactly one JSON value with optional
// surrounding whitespace. It accepts exactly what json.Valid accepts (a
// fuzz test holds it to that) and allocates nothing.
func validJSON(b []byte) bool {
	i := validValue(b, skipSpace(b, 0), 0)
	return i >= 0 && skipSpace(b, i) == len(b)
}

// validValue returns the index just past the valid JSON value starting at
// b[i], or -1. depth is how many arrays and objects enclose it.
func validValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '{':
		if depth >= maxNestingDepth {
			return -1
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i = validString(b, i); i < 0 {
				return -1
			}
			if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = validValue(b, skipSpace(b, i+1), depth+1); i < 0 {
				return -1
			}
			if i = skipSpace(b, i); i >= len(b) {
				return -1
			}
			switch b[i] {
			case '}':
				return i + 1
			case ',':
				i = skipSpace(b, i+1)
			default:
				return -1
			}
		}
	case c == '[':
		if depth >= maxNestingDepth {
			return -1
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = validValue(b, i, depth+1); i < 0 {
				return -1
			}
			if i = skipSpace(b, i); i >= len(b) {
				return -1
			}
			switch b[i] {
			case ']':
				return i + 1
			case ',':
				i = skipSpace(b, i+1)
			default:
				return -1
			}
		}
	case c == '"':
		return validString(b, i)
	case c == '-' || ('0' <= c && c <= '9'):
		return validNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	}
	return -1
}

// validString returns the index just past the string starting at b[i]
// (a quote), or -1. Like encoding/json it rejects control characters and
// unknown escapes and does not check UTF-8.
func validString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i++; i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		case c < 0x20:
			return -1
		}
	}
	return -1
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validNumber returns the index just past the number starting at b[i], or
// -1: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

func literal(b []byte, i int, word string) int {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return -1
	}
	return i + len(word)
}

// scanAnswer validates b exactly as json.Valid does and, when b is an
// object, returns its members and, for each member whose value is an
// array, that array's elements, all found in the same single pass (each a
// sub-slice of b; a repeated key keeps its last value, as in
// encoding/json). object is false when b is valid JSON but not an object.
func scanAnswer(b []byte) (top map[string]json.RawMessage, arrays map[string][]json.RawMessage, object, valid bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, nil, false, validJSON(b)
	}
	top, arrays = map[string]json.RawMessage{}, map[string][]json.RawMessage{}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return top, arrays, true, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, nil, false, false
		}
		end := validString(b, i)
		if end < 0 {
			return nil, nil, false, false
		}
		key, ok := objectKey(b[i:end])
		if !ok {
			return nil, nil, false, false
		}
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return nil, nil, false, false
		}
		start := skipSpace(b, i+1)
		var elems []json.RawMessage
		if start < len(b) && b[start] == '[' {
			end, elems = validArray(b, start, 1)
		} else {
			end = validValue(b, start, 1)
		}
		if end < 0 {
			return nil, nil, false, false
		}
		top[key] = b[start:end]
		if elems != nil {
			arrays[key] = elems
		} else {
			delete(arrays, key) // a repeated key whose last value is not an array
		}
		if i = skipSpace(b, end); i >= len(b) {
			return nil, nil, false, false
		}
		switch b[i] {
		case '}':
			return top, arrays, true, skipSpace(b, i+1) == len(b)
		case ',':
			i = skipSpace(b, i+1)
		default:
			return nil, nil, false, false
		}
	}
}

// validArray is validValue for the array starting at b[i] (depth arrays and
// objects enclose it), also returning its elements; never nil when valid.
func validArray(b []byte, i, depth int) (int, []json.RawMessage) {
	if depth >= maxNestingDepth {
		return -1, nil
	}
	elems := []json.RawMessage{}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return i + 1, elems
	}
	for {
		end := validValue(b, i, depth+1)
		if end < 0 {
			return -1, nil
		}
		elems = append(elems, b[i:end])
		if i = skipSpace(b, end); i >= len(b) {
			return -1, nil
		}
		switch b[i] {
		case ']':
			return i + 1, elems
		case ',':
			i = skipSpace(b, i+1)
		default:
			return -1, nil
		}
	}
}

// objectKey turns a quoted key into a string as encoding/json would: plain
// keys directly, keys with escapes or invalid UTF-8 through encoding/json.
func objectKey(quoted []byte) (string, bool) {
	k := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(k, '\\') < 0 && utf8.Valid(k) {
		return string(k), true
	}
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		return "", false
	}
	return s, true
}
