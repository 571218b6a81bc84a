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
		return validObject(b, i, depth, nil, nil)
	case c == '[':
		return validArray(b, i, depth, nil)
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

// validObject is validValue for the object starting at b[i]. When members
// is not nil it also records each member's value there and, in arrays, the
// elements of each member whose value is an array (a repeated key keeps
// its last value, as in encoding/json).
func validObject(b []byte, i, depth int, members map[string]json.RawMessage, arrays map[string][]json.RawMessage) int {
	if depth >= maxNestingDepth {
		return -1
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		keyEnd := validString(b, i)
		if keyEnd < 0 {
			return -1
		}
		keyStart := i
		if i = skipSpace(b, keyEnd); i >= len(b) || b[i] != ':' {
			return -1
		}
		start := skipSpace(b, i+1)
		if members == nil {
			i = validValue(b, start, depth+1)
		} else {
			key, ok := objectKey(b[keyStart:keyEnd])
			if !ok {
				return -1
			}
			if start < len(b) && b[start] == '[' {
				elems := []json.RawMessage{}
				i = validArray(b, start, depth+1, &elems)
				arrays[key] = elems
			} else {
				i = validValue(b, start, depth+1)
				delete(arrays, key)
			}
			if i >= 0 {
				members[key] = b[start:i]
			}
		}
		if i < 0 {
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
}

// validArray is validValue for the array starting at b[i]; when elems is
// not nil it also appends each element to it.
func validArray(b []byte, i, depth int, elems *[]json.RawMessage) int {
	if depth >= maxNestingDepth {
		return -1
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		start := i
		if i = validValue(b, i, depth+1); i < 0 {
			return -1
		}
		if elems != nil {
			*elems = append(*elems, b[start:i])
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
	if end := validObject(b, i, 0, top, arrays); end < 0 || skipSpace(b, end) != len(b) {
		return nil, nil, false, false
	}
	return top, arrays, true, true
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
