package bigin

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSplitArrayMatchesEncodingJSON: splitting a valid array gives the same
// elements encoding/json does, for the shapes Zoho sends and nastier ones.
func TestSplitArrayMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`[]`, ` [ ] `, `[{}]`, `[{"a":1}]`,
		`[{"id":"1","n":"x, y ] }"},{"id":"2","q":"\"quoted\" [","e":"\\"}]`,
		"[\n  {\"a\": [1, 2, {\"b\": \"]\"}]},\n  {\"c\": null}\n]\n",
		`[1, "two", null, true, [3, [4]], {"k": "v"}]`,
		`[ "a\\\"b" , 12.5e3 ]`,
	} {
		var want []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(in), &want), in)
		got, ok := splitArray([]byte(in))
		require.True(t, ok, in)
		require.Len(t, got, len(want), in)
		for i := range want {
			assert.JSONEq(t, string(want[i]), string(got[i]), in)
			assert.True(t, json.Valid(got[i]), "element %d of %s: %q", i, in, got[i])
		}
	}
	for _, in := range []string{``, `{}`, `"x"`, `[1,`, `[{"a":1}`, `[1 2]`} {
		_, ok := splitArray([]byte(in))
		assert.False(t, ok, in)
	}
}
