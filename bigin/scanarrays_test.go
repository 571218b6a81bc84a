package bigin

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScanAnswerSplitsArraysAsEncodingJSON: the elements of an array member
// are what encoding/json finds, for the shapes Zoho sends and nastier ones.
func TestScanAnswerSplitsArraysAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`[]`, ` [ ] `, `[{}]`, `[{"a":1}]`,
		`[{"id":"1","n":"x, y ] }"},{"id":"2","q":"\"quoted\" [","e":"\\"}]`,
		"[\n  {\"a\": [1, 2, {\"b\": \"]\"}]},\n  {\"c\": null}\n]\n",
		`[1, "two", null, true, [3, [4]], {"k": "v"}]`,
		`[ "a\\\"b" , 12.5e3 ]`,
	} {
		body := `{"k":` + in + `}`
		var want []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(in), &want), in)
		_, arrays, object, valid := scanAnswer([]byte(body))
		require.True(t, object && valid, body)
		got, ok := arrays["k"]
		require.True(t, ok, body)
		require.Len(t, got, len(want), in)
		for i := range want {
			assert.Equal(t, string(want[i]), string(got[i]), in)
		}
	}
	for _, in := range []string{``, `{}`, `"x"`, `[1,`, `[{"a":1}`, `[1 2]`} {
		_, arrays, object, valid := scanAnswer([]byte(`{"k":` + in + `}`))
		_, isArray := arrays["k"]
		assert.False(t, object && valid && isArray, in)
	}
}
