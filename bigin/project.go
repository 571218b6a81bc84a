package bigin

import "encoding/json"

// Project returns the record with only the top-level members whose key
// keep accepts, in the record's own order and with their bytes unchanged:
// a projection that neither decodes nor re-encodes Zoho's values. A record
// that is not a valid JSON object is returned as it is (records from this
// client are always objects). A repeated key keeps every occurrence keep
// accepts, as Zoho sent them.
func Project(record json.RawMessage, keep func(key string) bool) json.RawMessage {
	b := record
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' || !validJSON(b) {
		return record
	}
	out := make([]byte, 0, 64)
	out = append(out, '{')
	if i = skipSpace(b, i+1); b[i] == '}' {
		return append(out, '}')
	}
	for {
		// b is a valid object, so every step below finds what it expects.
		keyStart := i
		keyEnd := validString(b, i)
		i = skipSpace(b, keyEnd)
		valStart := skipSpace(b, i+1)
		valEnd := validValue(b, valStart, 1)
		if key, ok := objectKey(b[keyStart:keyEnd]); ok && keep(key) {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, b[keyStart:keyEnd]...)
			out = append(out, ':')
			out = append(out, b[valStart:valEnd]...)
		}
		i = skipSpace(b, valEnd)
		if b[i] == '}' {
			return append(out, '}')
		}
		i = skipSpace(b, i+1) // past the comma
	}
}
