package mcp

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExactID(t *testing.T) {
	for id, want := range map[string]bool{
		`1`: true, `0`: true, `-1`: true, `9007199254740991`: true, `-9007199254740991`: true,
		`"x"`: true, `""`: true, `null`: true,
		`9007199254740992`: false, `-9007199254740992`: false, `1.5`: false, `1.0`: false, `1e3`: false,
		`1E3`: false, `-0`: false, `true`: false, `{}`: false, `[]`: false, `99999999999999999999`: false,
	} {
		assert.Equal(t, want, exactID(json.RawMessage(id)), id)
	}
}

func TestTidyMessage(t *testing.T) {
	long := strings.Repeat("é", 2000)
	tests := []struct {
		name, in string
		want     string // "" for unchanged
	}{
		{"a result", `{"jsonrpc":"2.0","id":1,"result":{"error":{"code":0,"message":"` + long + `"}}}`, ""},
		{"a request", `{"jsonrpc":"2.0","id":1,"method":"x","params":{"error":0}}`, ""},
		{"a short error", `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool \"x\""}}`, ""},
		{"code 0 of params that do not decode", `{"jsonrpc":"2.0","id":"a","error":{"code":0,"message":"handling 'initialize': bad"}}`,
			`{"jsonrpc":"2.0","id":"a","error":{"code":-32602,"message":"handling 'initialize': bad"}}`},
		{"code 0 of a failure", `{"jsonrpc":"2.0","id":2,"error":{"code":0,"message":"boom"}}`,
			`{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"boom"}}`},
		{"large data", `{"jsonrpc":"2.0","id":2,"error":{"code":-32000,"message":"m","data":"` + strings.Repeat("x", maxErrorData) + `"}}`,
			`{"jsonrpc":"2.0","id":2,"error":{"code":-32000,"message":"m"}}`},
		{"not JSON", `{"jsonrpc":"2.0","id":2,"error":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tidyMessage([]byte(tt.in))
			if tt.want == "" {
				assert.Nil(t, got, "%s", got)
				return
			}
			assert.JSONEq(t, tt.want, string(got))
		})
	}
	t.Run("a long message", func(t *testing.T) {
		got := tidyMessage([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"` + long + `"}}`))
		require.NotNil(t, got)
		var m struct{ Error struct{ Message string } }
		require.NoError(t, json.Unmarshal(got, &m))
		assert.LessOrEqual(t, len(m.Error.Message), maxErrorMessage)
		assert.True(t, utf8.ValidString(m.Error.Message))
		assert.True(t, strings.HasSuffix(m.Error.Message, "é…"))
	})
}

func TestTidyWrite(t *testing.T) {
	bad := `{"jsonrpc":"2.0","id":1,"error":{"code":0,"message":"boom"}}`
	good := `{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"boom"}}`
	tests := []struct {
		name, ct, in, want string
	}{
		{"JSON", "application/json", bad, good},
		{"a JSON array", "application/json", `[{"jsonrpc":"2.0","method":"n"},` + bad + `]`, `[{"jsonrpc":"2.0","method":"n"},` + good + `]`},
		{"an event", "text/event-stream", "event: message\ndata: " + bad + "\n\n", "event: message\ndata: " + good + "\n\n"},
		{"an event with an id", "text/event-stream", "event: message\nid: 7\ndata: " + bad + "\n\n", "event: message\nid: 7\ndata: " + good + "\n\n"},
		{"an event without a name", "text/event-stream", "data: " + bad + "\n\n", "data: " + good + "\n\n"},
		{"no error in it", "application/json", `{"jsonrpc":"2.0","id":1,"result":{}}`, ""},
		{"another content type", "text/plain", bad, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tidyWrite(tt.ct, []byte(tt.in))
			if tt.want == "" {
				assert.Nil(t, got)
				return
			}
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestClipText(t *testing.T) {
	assert.Equal(t, "abc", clipText("abc", 3))
	assert.Equal(t, "a…", clipText("abcdef", 4))
	for n := 3; n < 12; n++ {
		got := clipText(strings.Repeat("é", 10), n)
		assert.True(t, utf8.ValidString(got), got)
		assert.LessOrEqual(t, len(got), n)
	}
}
